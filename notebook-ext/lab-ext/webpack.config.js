// Merged into @jupyterlab/builder's configuration: module and chunk ids by
// order, not hashed from absolute paths, so the checked-in dist/lab is the
// same whichever folder builds it (make test checks it is current).
module.exports = { optimization: { moduleIds: 'natural', chunkIds: 'natural' } };
