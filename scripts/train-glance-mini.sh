#!/usr/bin/env bash
# Rebuilds models/glance-mini from nothing with the repo's own commands (about an hour on 2 CPU cores),
# then evaluates it. Training is a command you run and record, never part of the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
model=models/glance-mini
dotnet build src/Glance.Cli -c Release
glance() { dotnet src/Glance.Cli/bin/Release/net10.0/glance.dll "$@"; }

# 1. Base model: autoencoder, then transformer + text encoder with flow matching (defaults of train-base).
glance train-base --out "$model" --seed 1

# 2. The one image-caption pair both Glance adapters are trained on: training-split scene 0 of world seed 2024.
rm -rf "$model/lora-pair" && glance world sample --split train --count 1 --seed 2024 --out "$model/lora-pair"
caption=$(sed -E 's/.*"caption":"([^"]*)".*/\1/' "$model/lora-pair/captions.jsonl")

# 3. Slow and Fast adapters (the Glance recipe: phase timesteps, velocity MSE, AdamW, constant rate).
mkdir -p "$model/adapters"
for phase in slow fast; do
  glance train-lora --model "$model" --phase "$phase" --image "$model/lora-pair/train_000000.png" \
    --caption "$caption" --targets attention --out "$model/adapters/$phase.safetensors"
done

# 4. The Glance claim on held-out prompts: report.json and contact-sheet.png.
glance eval --model "$model" --out "$model/eval"
