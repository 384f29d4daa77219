# A PyTorch training script shipped Fairing style: fair appends this folder
# as a layer onto a framework base image and runs `python3 train.py`:
#
#   ref=$(fair base debian --packages python3-torch --repo REGISTRY/pytorch)
#   fair train ./examples/train-py --base $ref --cmd "python3 train.py" \
#       --kind pytorchjob --workers 3 --model line
#
# Under a PyTorchJob each replica trains on its shard of the data and the
# replicas average their gradients with torch.distributed (gloo, CPU):
# the Training Operator sets MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE.
# Rank 0 writes the model to $FAIR_MODEL_DIR as ONNX, which
# `fair serve --model line` serves with no code.
import os

import torch
import torch.distributed as dist

rank = int(os.environ.get("RANK", "0"))
world = int(os.environ.get("WORLD_SIZE", "1"))
epochs = int(os.environ.get("EPOCHS", "30"))
if world > 1:
    dist.init_process_group("gloo")
    print(f"rank {rank}/{world}: joined the process group at {os.environ['MASTER_ADDR']}", flush=True)

# y = 2x + 1 with a little noise; each rank takes every world-th sample.
g = torch.Generator().manual_seed(42)
x = torch.linspace(-1, 1, 240).unsqueeze(1)
y = 2 * x + 1 + 0.05 * torch.randn(x.shape, generator=g)
x, y = x[rank::world], y[rank::world]

torch.manual_seed(0)
model = torch.nn.Linear(1, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.3)
for epoch in range(1, epochs + 1):
    opt.zero_grad()
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    if world > 1:
        for p in model.parameters():
            dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
            p.grad /= world
        dist.all_reduce(loss, op=dist.ReduceOp.SUM)
        loss /= world
    opt.step()
    print(f"rank {rank}/{world} epoch={epoch} loss={loss.item():.5f}", flush=True)

w, b = model.weight.item(), model.bias.item()
print(f"rank {rank}/{world} weight {w:.6f} bias {b:.6f}", flush=True)
out = os.environ.get("FAIR_MODEL_DIR")
if out and rank == 0:
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1), os.path.join(out, "line.onnx"), opset_version=13,
                      input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    print(f"rank 0/{world} wrote {out}/line.onnx", flush=True)
if world > 1:
    dist.destroy_process_group()
