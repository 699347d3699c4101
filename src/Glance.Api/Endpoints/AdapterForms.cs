namespace Glance.Api.Endpoints;

/// <summary>
/// The form of POST /v1/adapters/{name}/train, as the OpenAPI document describes it (the endpoint reads the form itself,
/// so that each bad field gets its own validation message).
/// </summary>
/// <param name="Image">The one training image: PNG or JPEG.</param>
/// <param name="Caption">What the image shows: the text the set learns to draw it from.</param>
/// <param name="Phases">"slow", "fast" or "slow,fast" (the default).</param>
/// <param name="Steps">Steps per phase (default: the model's recipe, 60).</param>
/// <param name="Rank">LoRA rank (default: FLUX.1 16, Qwen-Image 32); alpha is 4 x rank.</param>
/// <param name="LearningRate">Constant AdamW rate (default: FLUX.1 5e-4, Qwen-Image 3e-4).</param>
/// <param name="Targets">"attention" or "broad" (default: the model's recipe).</param>
/// <param name="Seed">Seed of the adapter's initialisation and of the training noise (default 1).</param>
internal sealed record TrainAdapterForm(
    IFormFile Image,
    string Caption,
    string? Phases = null,
    int? Steps = null,
    int? Rank = null,
    double? LearningRate = null,
    string? Targets = null,
    int? Seed = null);

/// <summary>The form of PUT /v1/adapters/{name}, as the OpenAPI document describes it: one or both phase files.</summary>
/// <param name="Slow">The Slow phase's LoRA (safetensors, PEFT/diffusers or kohya names).</param>
/// <param name="Fast">The Fast phase's LoRA.</param>
internal sealed record UploadAdapterSetForm(IFormFile? Slow, IFormFile? Fast);
