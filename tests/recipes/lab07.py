"""Seed recipes of lab 07: the TU Wien ViT (§6.3.3) and the UW-Madison SimpleViT
(§2 and §3.3), as `python -m helpers config 07 --profile full` should print them. Not
listed: SimpleViT's width, heads, patch size and window (the UW-Madison report does not give them), the
strengths of its augmentations (named, not quantified), its LR warm-up length, and its dataset
(MiniPlaces; the lab trains on CIFAR-10 and says so). Also not listed: how TU Wien pooled the
tokens (the seed does not say; ours averages them)."""

TU = "recipe.settings.tu_wien."
UW = "recipe.settings.uw_madison."

EXPECTED = {
    "full": {
        "dataset": "cifar10",  # the TU Wien report: CIFAR-10, split 40k/10k/10k
        "val_size": 10_000,  # the TU Wien report §3: "Validation set: 10,000 samples"
        # the TU Wien report §6.3.3: "The optimal parameters were: lr = 0.000365, gamma = 0.9, patch_size = 2,
        # embed_dim = 32, num_encoder_layers = 4, hidden_layer_depth = 1024, head_dim = 16, num_heads = 20,
        # dropout = 0.25, mlp_head_hidden_layer_depth = 1024, batch_size = 128, and weight_decay = 0.1.
        # We trained our ViT model twice for 60 epochs"; §6.3: "AdamW optimizer ... ExponentialLR"
        TU + "lr": 3.65e-4,
        TU + "gamma": 0.9,
        TU + "schedule": "exponential",
        TU + "weight_decay": 0.1,
        TU + "batch_size": 128,
        TU + "epochs": 60,
        TU + "model.patch_size": 2,
        TU + "model.dim": 32,
        TU + "model.depth": 4,
        TU + "model.mlp_hidden": 1024,
        TU + "model.head_dim": 16,
        TU + "model.num_heads": 20,
        TU + "model.drop": 0.25,
        TU + "model.head_hidden": 1024,
        TU + "model.block_kinds": ["global"] * 4,  # TU Wien §4.3: a Dosovitskiy et al. encoder, global attention
        TU + "augment": "none",  # TU Wien §6.3.3: "The run without data augmentation achieved a higher accuracy"
        # the UW-Madison report §3.3: "trained for 90 epochs using an AdamW optimizer with a decreased starting
        # learning rate of 0.01 and increased weight decay parameter of 0.05 ... All other parameters
        # remained the same as the defaults"; §2: batch size 256, "linear warm-up, cosine annealing
        # schedule", "A weight decay warm-up of 5 epochs", crop/flip/colour/scale/rotation augmentation
        UW + "lr": 0.01,
        UW + "weight_decay": 0.05,
        UW + "epochs": 90,
        UW + "batch_size": 256,
        UW + "schedule": "warmup_cosine",
        UW + "wd_warmup_epochs": 5,
        UW + "augment": "uw_madison",
        # the UW-Madison report §3.3: "the transformer encoder contains four transformer blocks with the first and
        # third utilizing local self-attention" (ViT's default block_kinds alternate local, global)
        "model.depth": 4,
    },
}
