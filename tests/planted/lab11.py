"""Planted wrong answers for lab 11 (transfer learning)."""

from planted import Planted

PLANTED = {
    "l11-replace-head": [
        Planted(
            "hard-codes ResNet18's 512 features",
            "nn.Linear(old.in_features, num_classes)",
            "nn.Linear(512, num_classes)",
        ),
        Planted(
            "changes the attribute, not the layer",
            "    model.fc = nn.Linear(old.in_features, num_classes).to(old.weight.device)\n",
            "    model.fc.out_features = num_classes\n",
        ),
        Planted(
            "keeps the old number of outputs",
            "nn.Linear(old.in_features, num_classes)",
            "nn.Linear(old.in_features, old.out_features)",
        ),
    ],
    "l11-freeze": [
        Planted("freezes the head too", 'p.requires_grad = name.startswith("fc.")', "p.requires_grad = False"),
        Planted(
            "freezes the head and trains the backbone",
            'p.requires_grad = name.startswith("fc.")',
            'p.requires_grad = not name.startswith("fc.")',
        ),
        Planted(
            "leaves the head's bias frozen",
            'p.requires_grad = name.startswith("fc.")',
            'p.requires_grad = name == "fc.weight"',
        ),
    ],
    "l11-groups": [
        Planted(
            "both groups at the same lr",
            '{"params": backbone, "lr": backbone_lr}',
            '{"params": backbone, "lr": head_lr}',
        ),
        Planted(
            "the two learning rates swapped",
            '[{"params": backbone, "lr": backbone_lr}, {"params": head, "lr": head_lr}]',
            '[{"params": backbone, "lr": head_lr}, {"params": head, "lr": backbone_lr}]',
        ),
        Planted(
            "the head in both groups",
            "backbone = [p for p in model.parameters() if id(p) not in head_ids]",
            "backbone = list(model.parameters())",
        ),
        Planted("forgets momentum", "lr=head_lr, momentum=momentum,", "lr=head_lr,"),
    ],
}
