"""Planted wrong answers for lab 12 (interpretation and adversarial examples)."""

from planted import Planted

PLANTED = {
    "l12-rollout": [
        Planted("multiplies the blocks in the wrong order", "rollout = a @ rollout", "rollout = rollout @ a"),
        Planted("forgets the residual connection", "a = 0.5 * a + 0.5 * eye", "a = a"),
        Planted("takes the strongest head instead of the mean", "a = attn.mean(dim=1)", "a = attn.amax(dim=1)"),
    ],
    "l12-fgsm": [
        Planted("steps down the loss", "(x + eps * grad.sign())", "(x - eps * grad.sign())"),
        Planted(
            "no clamp to the valid range",
            "(x + eps * grad.sign()).clamp(0, 1).detach()",
            "(x + eps * grad.sign()).detach()",
        ),
        Planted("the gradient instead of its sign", "(x + eps * grad.sign())", "(x + eps * grad)"),
    ],
    "l12-pgd": [
        Planted(
            "no projection onto the eps-ball",
            "        x_adv = torch.min(torch.max(x_adv, x - eps), x + eps)  # project onto the eps-ball around x\n",
            "",
        ),
        Planted("steps down the loss", "x_adv.detach() + alpha * grad.sign()", "x_adv.detach() - alpha * grad.sign()"),
        Planted("no clamp to [0, 1]", "        x_adv = x_adv.clamp(0, 1)  # a valid image\n", ""),
        Planted(
            "projects around the current point, not the original image",
            "torch.min(torch.max(x_adv, x - eps), x + eps)",
            "x_adv.clamp(-eps, 1 + eps)",
        ),
        Planted(
            "ignores random_start",
            "        x_adv = (x_adv + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)\n",
            "        pass\n",
        ),
        Planted(
            "does not clamp the random start to [0, 1]",
            "(x_adv + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)",
            "(x_adv + torch.empty_like(x).uniform_(-eps, eps))",
        ),
        Planted(
            "starts at a random corner of the ball (sign noise) instead of a uniform point",
            "torch.empty_like(x).uniform_(-eps, eps)",
            "eps * torch.randn_like(x).sign()",
        ),
    ],
}
