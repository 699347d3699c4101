namespace Glance.Engine.Serving;

/// <summary>
/// What is known of each model family beyond its files: the licence its weights are published under and a few
/// prompts to start from when the model folder brings none of its own.
/// </summary>
public static class ModelFamilies
{
    public const string GlanceMini = "glance-mini";
    public const string FluxDev = "flux.1-dev";
    public const string FluxSchnell = "flux.1-schnell";
    public const string QwenImage = "qwen-image";

    /// <summary>Who publishes a family's weights (the OpenAI "owned_by").</summary>
    public static string Publisher(string family) => family switch
    {
        FluxDev or FluxSchnell => "black-forest-labs",
        QwenImage => "Qwen",
        _ => "glance-server",
    };

    /// <summary>The licence name of a family's published weights; null when unknown (e.g. a test engine).</summary>
    public static string? Licence(string family) => family switch
    {
        // glance-mini is trained by this repository's own commands and ships under the repository's terms.
        GlanceMini => "Glance Server repository licence",
        FluxDev => "FLUX.1 [dev] Non-Commercial License",
        FluxSchnell => "Apache-2.0",
        QwenImage => "Apache-2.0",
        _ => null,
    };

    /// <summary>
    /// Prompts for models whose folder brings no examples. glance-mini knows only its shapes world, so its list stays in
    /// that world's template (its folder's examples.txt, written by `glance world examples`, takes precedence).
    /// </summary>
    public static IReadOnlyList<string> BuiltInExamples(string family) => family switch
    {
        GlanceMini =>
        [
            "a large red circle at the top left on a gray background",
            "a small blue cross at the right on a black background",
        ],
        FluxDev or FluxSchnell or QwenImage =>
        [
            "a lighthouse on a cliff at dawn, waves breaking below, soft golden light",
            "a red fox curled up asleep in fresh snow, close-up, shallow depth of field",
            "a bowl of ramen on a wooden table, steam rising, studio photograph",
            "an isometric illustration of a tiny library inside a glass bottle",
            "a hand-painted shop sign that reads \"GLANCE\" above a bakery window",
        ],
        _ => ["a small test image"],
    };
}
