// Package artifact moves a pipeline step's files through an OCI registry:
// Push packs a file or directory as a one-layer OCI image and Pull unpacks
// it, so step outputs need no storage beyond the registry that already
// holds the images. The layer is an uncompressed tar: model weights and
// datasets rarely shrink, and skipping gzip keeps transfers at disk and
// network speed.
package artifact

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/fair-go/fair/internal/pushretry"
	"github.com/fair-go/fair/internal/untar"
)

// AnnotationFile names the single file an artifact holds; without it the
// artifact is a directory.
const AnnotationFile = "dev.fair.artifact.file"

// Options reach the registry.
type Options struct {
	Insecure bool            // plain HTTP
	Remote   []remote.Option // auth, transport
	TempDir  string          // where the tar is staged (default os.TempDir)
	// Annotations go on the artifact's manifest (a model's run, image
	// and metrics).
	Annotations map[string]string
}

func (o Options) nameOpts() []name.Option {
	if o.Insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

// Push packs path (a file or a directory) and pushes it as ref (a tag),
// returning the reference by digest.
func Push(ctx context.Context, path, ref string, o Options) (string, error) {
	tag, err := name.NewTag(ref, o.nameOpts()...)
	if err != nil {
		return "", fmt.Errorf("artifact reference %q: %v", ref, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	layer, remove, err := TarLayer(o.TempDir, func(tw *tar.Writer) error {
		if st.IsDir() {
			return addDir(tw, path)
		}
		return addFile(tw, path, filepath.Base(path), st)
	})
	if err != nil {
		return "", fmt.Errorf("pack %s: %v", path, err)
	}
	defer remove()

	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: layer, MediaType: types.OCIUncompressedLayer})
	if err != nil {
		return "", err
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	ann := map[string]string{}
	for k, v := range o.Annotations {
		ann[k] = v
	}
	if !st.IsDir() {
		ann[AnnotationFile] = filepath.Base(path)
	}
	if len(ann) > 0 {
		img = mutate.Annotations(img, ann).(v1.Image)
	}
	opts := append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)
	if err := pushretry.Do(ctx, func() error { return remote.Write(tag, img, opts...) }); err != nil {
		return "", fmt.Errorf("push %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return tag.Context().Digest(d.String()).String(), nil
}

// Pull fetches ref and unpacks it at dest: the file itself for a file
// artifact, else a directory.
func Pull(ctx context.Context, ref, dest string, o Options) error {
	r, err := name.ParseReference(ref, o.nameOpts()...)
	if err != nil {
		return fmt.Errorf("artifact reference %q: %v", ref, err)
	}
	img, err := remote.Image(r, append([]remote.Option{remote.WithContext(ctx)}, o.Remote...)...)
	if err != nil {
		return fmt.Errorf("pull %s: %v", ref, err)
	}
	m, err := img.Manifest()
	if err != nil {
		return fmt.Errorf("pull %s: %v", ref, err)
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("pull %s: %v", ref, err)
	}
	if len(layers) != 1 {
		return fmt.Errorf("pull %s: not a fair artifact (%d layers)", ref, len(layers))
	}
	// An uncompressed layer's blob is the tar itself; anything else is
	// decompressed by the library.
	open := layers[0].Uncompressed
	if mt, _ := layers[0].MediaType(); mt == types.OCIUncompressedLayer {
		open = layers[0].Compressed
	}
	rc, err := open()
	if err != nil {
		return fmt.Errorf("pull %s: %v", ref, err)
	}
	defer rc.Close()
	if file := m.Annotations[AnnotationFile]; file != "" {
		return untar.File(rc, file, dest)
	}
	return untar.Extract(rc, dest, untar.WithSymlinks())
}

func addDir(tw *tar.Writer, root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return addFile(tw, p, filepath.ToSlash(rel), info)
	})
}

func addFile(tw *tar.Writer, p, name string, info fs.FileInfo) error {
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return err
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname, hdr.Uid, hdr.Gid = "", "", 0, 0
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(tw, f)
	return err
}

// TarLayer stages the tar that write writes as an uncompressed layer in a
// file of tempDir (default os.TempDir), hashed once while written; remove
// deletes the file once the layer is pushed.
func TarLayer(tempDir string, write func(*tar.Writer) error) (layer v1.Layer, remove func(), err error) {
	f, err := os.CreateTemp(tempDir, "fair-artifact-*.tar")
	if err != nil {
		return nil, nil, err
	}
	remove = func() { f.Close(); os.Remove(f.Name()) }
	h := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(f, h))
	err = write(tw)
	if err == nil {
		err = tw.Close()
	}
	var size int64
	if err == nil {
		size, err = f.Seek(0, io.SeekCurrent)
	}
	if err != nil {
		remove()
		return nil, nil, err
	}
	digest := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", h.Sum(nil))}
	return &fileLayer{path: f.Name(), digest: digest, size: size}, remove, nil
}

// fileLayer is an uncompressed tar on disk, hashed once while written.
type fileLayer struct {
	path   string
	digest v1.Hash
	size   int64
}

func (l *fileLayer) Digest() (v1.Hash, error)           { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)           { return l.digest, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	return os.Open(l.path)
}
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
