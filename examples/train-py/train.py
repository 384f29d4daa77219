# A training script shipped Fairing style: fair appends this folder as a
# layer onto a framework base image and runs `python train.py`.
import math

w, b, lr = 0.0, 0.0, 0.1
data = [(x / 10, 2 * (x / 10) + 1) for x in range(10)]
for epoch in range(5):
    gw = sum((w * x + b - y) * x for x, y in data) / len(data)
    gb = sum((w * x + b - y) for x, y in data) / len(data)
    w, b = w - lr * gw, b - lr * gb
    loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
    print(f"epoch {epoch} loss {loss:.4f}")
