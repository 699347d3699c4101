using System.Text.Json.Nodes;
using Glance.Engine.Models.Flux;

namespace Glance.Engine.Tests.Vae;

public sealed class AutoencoderConfigFileTests : IDisposable
{
    // vae/config.json of black-forest-labs/FLUX.1-dev. That repository is gated, so this text was written from the
    // published field values (diffusers' FLUX conversion script and model card) and checked field by field against a
    // public re-save of the FLUX.1-schnell file (github.com/edkamesh/FluX-optimized@2557da9, vae/config.json), which
    // differs only in _diffusers_version and an added _name_or_path; dev and schnell ship the same autoencoder.
    const string Flux1DevVaeConfig = """
        {
          "_class_name": "AutoencoderKL",
          "_diffusers_version": "0.30.0.dev0",
          "act_fn": "silu",
          "block_out_channels": [128, 256, 512, 512],
          "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
          "force_upcast": true,
          "in_channels": 3,
          "latent_channels": 16,
          "latents_mean": null,
          "latents_std": null,
          "layers_per_block": 2,
          "mid_block_add_attention": true,
          "norm_num_groups": 32,
          "out_channels": 3,
          "sample_size": 1024,
          "scaling_factor": 0.3611,
          "shift_factor": 0.1159,
          "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"],
          "use_post_quant_conv": false,
          "use_quant_conv": false
        }
        """;

    readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("glance-vae-config-");

    public void Dispose() => _folder.Delete(recursive: true);

    string Write(string json, string name = "config.json")
    {
        string path = Path.Combine(_folder.FullName, name);
        File.WriteAllText(path, json);
        return path;
    }

    string WriteFluxWith(Action<JsonObject> change)
    {
        var node = JsonNode.Parse(Flux1DevVaeConfig)!.AsObject();
        change(node);
        return Write(node.ToJsonString());
    }

    [Fact]
    public void Flux1DevVaeConfigGivesTheBflAutoencoderParameters()
    {
        var config = AutoencoderConfig.FromDiffusers(Write(Flux1DevVaeConfig));

        Assert.Equal(128, config.Ch);
        Assert.Equal([1, 2, 4, 4], config.ChMult);
        Assert.Equal(2, config.NumResBlocks);
        Assert.Equal(16, config.ZChannels);
        Assert.Equal(3, config.InChannels);
        Assert.Equal(3, config.OutCh);
        Assert.Equal(0.3611, config.ScaleFactor);
        Assert.Equal(0.1159, config.ShiftFactor);
        Assert.Equal(8, config.DownsampleFactor);
        var bfl = AutoencoderConfig.Flux; // BFL's flux-dev AutoEncoderParams, apart from the nominal resolution
        Assert.Equal(bfl with { Resolution = config.Resolution, ChMult = config.ChMult }, config);
    }

    [Fact]
    public void AbsentFieldsTakeAutoencoderKlConstructorDefaults()
    {
        // Only the two fields whose defaults (true) are unsupported, and a width our GroupNorm(32) accepts.
        var config = AutoencoderConfig.FromDiffusers(Write("""{"use_quant_conv": false, "use_post_quant_conv": false}"""));

        Assert.Equal(64, config.Ch);
        Assert.Equal([1], config.ChMult);
        Assert.Equal(1, config.NumResBlocks);
        Assert.Equal(4, config.ZChannels);
        Assert.Equal(3, config.InChannels);
        Assert.Equal(3, config.OutCh);
        Assert.Equal(32, config.Resolution);
        Assert.Equal(0.18215, config.ScaleFactor);
        Assert.Equal(0, config.ShiftFactor);
    }

    [Fact]
    public void NullShiftFactorMeansNoShift()
    {
        var config = AutoencoderConfig.FromDiffusers(WriteFluxWith(c => c["shift_factor"] = null));
        Assert.Equal(0, config.ShiftFactor);
    }

    [Fact]
    public void ForceUpcastDoesNotChangeTheConfig()
    {
        var upcast = AutoencoderConfig.FromDiffusers(WriteFluxWith(c => c["force_upcast"] = true));
        var plain = AutoencoderConfig.FromDiffusers(WriteFluxWith(c => c["force_upcast"] = false));
        Assert.Equal(upcast with { ChMult = plain.ChMult }, plain);
        Assert.Equal(upcast.ChMult, plain.ChMult);
    }

    [Fact]
    public void SwishIsAcceptedAsSilu()
    {
        var config = AutoencoderConfig.FromDiffusers(WriteFluxWith(c => c["act_fn"] = "swish"));
        Assert.Equal(128, config.Ch);
    }

    public static TheoryData<string, string, string, string> UnsupportedValues => new()
    {
        // field, JSON value, the value as the error quotes it, a fragment of what the error says is supported
        { "use_quant_conv", "true", "true", "false" },
        { "use_post_quant_conv", "true", "true", "false" },
        { "down_block_types", """["DownEncoderBlock2D", "AttnDownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"]""", "AttnDownEncoderBlock2D", "\"DownEncoderBlock2D\"" },
        { "up_block_types", """["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "AttnUpDecoderBlock2D"]""", "AttnUpDecoderBlock2D", "\"UpDecoderBlock2D\"" },
        { "up_block_types", """["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]""", "UpDecoderBlock2D", "per block_out_channels entry (4)" },
        { "act_fn", "\"gelu\"", "\"gelu\"", "\"silu\"" },
        { "norm_num_groups", "16", "16", "32" },
        { "block_out_channels", "[128, 192, 512, 512]", "192", "multiples of the first entry 128" },
        { "block_out_channels", "[48, 96, 192, 192]", "48", "multiple of 32" },
        { "mid_block_add_attention", "false", "false", "true" },
        { "latents_mean", "[0.1, 0.2]", "0.1", "null" },
        { "latents_std", "[1.0, 2.0]", "2", "null" },
        { "_class_name", "\"AutoencoderKLQwenImage\"", "\"AutoencoderKLQwenImage\"", "\"AutoencoderKL\"" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedValues))]
    public void UnsupportedValueIsRefusedNamingFileFieldValueAndWhatIsSupported(string field, string json, string quoted, string supported)
    {
        string path = WriteFluxWith(c => c[field] = JsonNode.Parse(json));

        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromDiffusers(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"\"{field}\"", error.Message, StringComparison.Ordinal);
        Assert.Contains(quoted, error.Message, StringComparison.Ordinal);
        Assert.Contains(supported, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AbsentQuantConvFlagsMeanDiffusersDefaultTrueAndAreRefused()
    {
        string path = WriteFluxWith(c => c.Remove("use_quant_conv"));
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromDiffusers(path));
        Assert.Contains("\"use_quant_conv\" is true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WrongJsonKindIsRefusedNamingTheField()
    {
        string path = WriteFluxWith(c => c["layers_per_block"] = "two");
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromDiffusers(path));
        Assert.Contains("\"layers_per_block\" is \"two\"; expected an integer", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MalformedJsonIsRefusedNamingTheFile()
    {
        string path = Write("{\"in_channels\": 3,");
        var error = Assert.Throws<InvalidDataException>(() => AutoencoderConfig.FromDiffusers(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }
}
