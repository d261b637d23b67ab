"""The course's architectures. Every model: `Model(num_classes=10, in_channels=3, ...)`,
`forward(x) -> logits` with x of shape (B, in_channels, 32, 32)."""
