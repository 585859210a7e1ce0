"""The native workloads in PyTorch: nn.Modules, eager (ORCHESTRATE_TORCH_COMPILE=1: under torch.compile).

Keras' initialisers drawn with torch (glorot_uniform kernels with Keras' fans, zero biases, uniform +-0.05
embeddings); RMSprop with Keras 3's rule (torch.optim.RMSprop adds eps outside the root: a small optimizer here);
torch.optim.Adadelta is Keras 3's Adadelta; torch.optim.Adam is Keras 3's Adam up to where epsilon sits.
Images NCHW, as a PyTorch user writes them (Keras on torch keeps channels_last and transposes).
"""

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from native import hyper
from native.runner import evaluate_batches

COMPILE = os.environ.get("ORCHESTRATE_TORCH_COMPILE", "") == "1"
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_seed(seed):
    np.random.seed(seed)
    torch.manual_seed(seed)


def configure_threads(threads):
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:
        pass
    if DEVICE.type == "cuda":  # cuDNN autotune, as the harness sets it for Keras on torch
        torch.backends.cudnn.benchmark = True
    return {"requested": threads, "device": str(DEVICE), "torch_threads": torch.get_num_threads(),
            "torch_cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
            "torch_interop_threads": torch.get_num_interop_threads()}


def versions():
    return {"backend": "torch", "backend_version": torch.__version__}


def dense(fan_in, fan_out, limit=None):
    layer = nn.Linear(fan_in, fan_out)
    limit = limit if limit is not None else hyper.glorot_limit((fan_in, fan_out))
    nn.init.uniform_(layer.weight, -limit, limit)
    nn.init.zeros_(layer.bias)
    return layer


def conv(channels_in, channels_out, size=3):
    layer = nn.Conv2d(channels_in, channels_out, size)
    limit = hyper.glorot_limit((size, size, channels_in, channels_out))
    nn.init.uniform_(layer.weight, -limit, limit)
    nn.init.zeros_(layer.bias)
    return layer


class MnistMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(dense(784, 512), nn.ReLU(), nn.Dropout(hyper.MNIST_MLP_DROPOUT),
                                 dense(512, 512), nn.ReLU(), nn.Dropout(hyper.MNIST_MLP_DROPOUT), dense(512, 10))

    def forward(self, x):
        return self.net(x)


class MnistCNN(nn.Module):
    def __init__(self):
        super().__init__()
        first, second = hyper.MNIST_CNN_DROPOUT
        self.net = nn.Sequential(conv(1, 32), nn.ReLU(), conv(32, 64), nn.ReLU(), nn.MaxPool2d(2),
                                 nn.Dropout(first), nn.Flatten(), dense(9216, 128), nn.ReLU(), nn.Dropout(second),
                                 dense(128, 10))

    def forward(self, x):
        return self.net(x.permute(0, 3, 1, 2))  # NHWC data (as Keras gets it) to NCHW


class EncoderBlock(nn.Module):
    def __init__(self, t):
        super().__init__()
        d, self.heads, self.dropout = t["d_model"], t["heads"], t["dropout"]
        qkv, out = hyper.attention_limits()
        self.q, self.k, self.v, self.o = dense(d, d, qkv), dense(d, d, qkv), dense(d, d, qkv), dense(d, d, out)
        self.ln1 = nn.LayerNorm(d, eps=t["layernorm_epsilon"])
        self.ff1, self.ff2 = dense(d, t["ff"]), dense(t["ff"], d)
        self.ln2 = nn.LayerNorm(d, eps=t["layernorm_epsilon"])
        self.drop = nn.Dropout(t["dropout"])

    def split(self, x):
        b, n, d = x.shape
        return x.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x):
        b, n, d = x.shape
        a = F.scaled_dot_product_attention(self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x)),
                                           dropout_p=self.dropout if self.training else 0.0)
        x = self.ln1(x + self.drop(self.o(a.transpose(1, 2).reshape(b, n, d))))
        return self.ln2(x + self.drop(self.ff2(F.gelu(self.ff1(x)))))


class TextTransformer(nn.Module):
    def __init__(self, vocab, length, classes):
        super().__init__()
        t, u = hyper.TRANSFORMER, hyper.TRANSFORMER["embedding_uniform"]
        self.tokens = nn.Embedding(vocab, t["d_model"])
        self.positions = nn.Parameter(torch.empty(length, t["d_model"]))
        nn.init.uniform_(self.tokens.weight, -u, u)
        nn.init.uniform_(self.positions, -u, u)
        self.ln = nn.LayerNorm(t["d_model"], eps=t["layernorm_epsilon"])
        self.drop = nn.Dropout(t["dropout"])
        self.blocks = nn.Sequential(*[EncoderBlock(t) for _ in range(t["blocks"])])
        self.head = dense(t["d_model"], classes)

    def forward(self, x):
        x = self.drop(self.ln(self.tokens(x) + self.positions))
        return self.head(self.blocks(x)[:, 0])


class KerasRMSprop(torch.optim.Optimizer):
    """Keras 3's RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps)."""

    def __init__(self, params, lr, rho, epsilon):
        super().__init__(params, {"lr": lr, "rho": rho, "epsilon": epsilon})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "v" not in state:
                    state["v"] = torch.zeros_like(p)
                v = state["v"]
                v.mul_(group["rho"]).addcmul_(p.grad, p.grad, value=1 - group["rho"])
                p.addcdiv_(p.grad, (v + group["epsilon"]).sqrt_(), value=-group["lr"])


def make_optimizer(workload, params):
    hp = hyper.OPTIMIZERS[workload]
    if hp["name"] == "rmsprop":
        return KerasRMSprop(params, hp["lr"], hp["rho"], hp["epsilon"]), []
    if hp["name"] == "adadelta":
        return torch.optim.Adadelta(params, lr=hp["lr"], rho=hp["rho"], eps=hp["epsilon"]), []
    return torch.optim.Adam(params, lr=hp["lr"], betas=(hp["beta_1"], hp["beta_2"]), eps=hp["epsilon"]), [
        "Adam: torch adds epsilon to sqrt(v / (1 - b2^t)), Keras 3 to sqrt(v) (epsilon 1e-7)"]


class Trainer(object):
    def __init__(self, workload, module, x_dtype):
        self.module = module.to(DEVICE)
        self.params = sum(p.numel() for p in module.parameters())
        self.opt, self.deviations = make_optimizer(workload, module.parameters())
        self.forward = torch.compile(module) if COMPILE else module
        self.x_dtype = x_dtype
        self.optimizer = type(self.opt).__name__
        self.settings = {"torch_compile": COMPILE, "jit_compile": {
            "requested": COMPILE, "resolved": COMPILE,
            "means": "torch.compile (inductor) of the model" if COMPILE else "eager (no torch.compile)"}}

    def train_step(self, x, y):
        self.module.train()
        x, y = torch.from_numpy(x).to(DEVICE), torch.from_numpy(y).long().to(DEVICE)
        logits = self.forward(x)
        loss = F.cross_entropy(logits, y, reduction="sum")
        self.opt.zero_grad(set_to_none=True)
        (loss / len(y)).backward()
        self.opt.step()
        with torch.no_grad():
            return loss.detach(), (logits.argmax(1) == y).sum()

    @torch.no_grad()
    def eval_step(self, x, y):
        x, y = torch.from_numpy(x).to(DEVICE), torch.from_numpy(y).long().to(DEVICE)
        logits = self.forward(x)
        return F.cross_entropy(logits, y, reduction="sum"), (logits.argmax(1) == y).sum()

    def evaluate(self, x, y, batch_size):
        self.module.eval()
        return evaluate_batches(self.eval_step, x, y, batch_size)


def build(workload, data, seed):
    if workload == "mnist_mlp":
        module = MnistMLP()
    elif workload == "mnist_cnn":
        module = MnistCNN()
    else:
        module = TextTransformer(data["vocab"], data["x_train"].shape[1], data["classes"])
    return Trainer(workload, module, data["x_train"].dtype)
