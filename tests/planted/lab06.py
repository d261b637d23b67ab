"""Planted wrong answers for lab 06: BasicBlock.forward with the option A shortcut."""

from planted import Planted

PLANTED = {
    "26cbaf0f": [
        Planted("no ReLU after the addition", "return F.relu(out + shortcut)", "return out + shortcut"),
        Planted(
            "all zero channels after x's channels instead of split around them",
            "(0, 0, 0, 0, extra // 2, extra - extra // 2)",
            "(0, 0, 0, 0, 0, extra)",
        ),
        Planted(
            "subsamples the odd pixels instead of the even ones",
            "x[:, :, :: self.stride, :: self.stride]",
            "x[:, :, 1 :: self.stride, 1 :: self.stride]",
        ),
        Planted(
            "average-pools the shortcut instead of subsampling it",
            "x[:, :, :: self.stride, :: self.stride]",
            "F.avg_pool2d(x, self.stride)",
        ),
        Planted(
            "adds the shortcut before bn2",
            "        out = self.bn2(self.conv2(out))  # (B, C_out, H/s, W/s)\n        return F.relu(out + shortcut)",
            "        out = self.bn2(self.conv2(out) + shortcut)  # (B, C_out, H/s, W/s)\n        return F.relu(out)",
        ),
    ],
}
