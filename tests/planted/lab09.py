"""Planted wrong answers for lab 09 (convolution from scratch)."""

from planted import Planted

PLANTED = {
    # conv2d_unfold
    "lab09-004": [
        Planted("output size without the + 1", "// stride + 1", "// stride"),
        Planted(
            "weight flattened channels-last, not in unfold's (channel, row, column) order",
            "weight.reshape(C_out, C * kh * kw)",
            "weight.permute(0, 2, 3, 1).reshape(C_out, C * kh * kw)",
        ),
        Planted("padding ignored by unfold", "padding=padding, stride=stride)", "stride=stride)"),
        Planted(
            "stride ignored in the output size",
            "H_out = (H + 2 * padding - kh) // stride + 1",
            "H_out = H + 2 * padding - kh + 1",
        ),
        Planted("bias added without broadcasting per channel", "bias[:, None]", "bias"),
    ],
    # unfolded_bytes
    "lab09-011": [
        Planted(
            "forgets the padding", "h_out = (height + 2 * padding - kernel_size)", "h_out = (height - kernel_size)"
        ),
        Planted("counts the input, not the k*k copies of it", "channels * kernel_size**2 *", "channels *"),
        Planted("assumes 4 bytes per element", "w_out * bytes_per_element", "w_out * 4"),
    ],
}
