"""Planted wrong answers for lab 04: BatchNorm2d.forward and Swish.forward."""

from planted import Planted

PLANTED = {
    "bn-exercise": [
        Planted(
            "uses the batch's statistics in eval mode too",
            "            mean, var = self.running_mean, self.running_var\n",
            "            mean, var = x.mean(dims), x.var(dims, correction=0)\n",
        ),
        Planted(
            "reduces over the channel axis instead of batch, height and width",
            "dims = (0, 2, 3)",
            "dims = (1, 2, 3)",
        ),
        Planted(
            "forgets eps in the denominator",
            "torch.sqrt(var.view(1, -1, 1, 1) + self.eps)",
            "torch.sqrt(var.view(1, -1, 1, 1))",
        ),
        Planted(
            "never updates the running statistics",
            "            with torch.no_grad():\n"
            "                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)\n"
            "                self.running_var.mul_(1 - self.momentum)"
            ".add_(self.momentum * x.var(dims, correction=1))\n",
            "",
        ),
        Planted(
            "keeps the biased batch variance in running_var",
            "self.momentum * x.var(dims, correction=1)",
            "self.momentum * var",
        ),
        Planted(
            "momentum weighs the old running value instead of the new batch value",
            "self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)",
            "self.running_mean.mul_(self.momentum).add_((1 - self.momentum) * mean)",
        ),
    ],
    "966ddc99": [
        Planted(
            "returns the sigmoid alone, without multiplying by x",
            "return x * torch.sigmoid(self.beta * x)",
            "return torch.sigmoid(self.beta * x)",
        ),
        Planted("ignores beta", "return x * torch.sigmoid(self.beta * x)", "return x * torch.sigmoid(x)"),
        Planted(
            "beta scales the output instead of the sigmoid's input",
            "return x * torch.sigmoid(self.beta * x)",
            "return self.beta * x * torch.sigmoid(x)",
        ),
    ],
}
