namespace Glance.Engine.Models.Flux;

public sealed partial record AutoencoderConfig
{
    // BFL's AutoEncoderParams for flux-dev (src/flux/util.py; schnell and the other FLUX.1 variants use the same):
    // the values ae.safetensors cannot carry.
    const int BflResolution = 256;
    const double BflScaleFactor = 0.3611;
    const double BflShiftFactor = 0.1159;

    /// <summary>
    /// The autoencoder stored in a BFL ae.safetensors, which carries no config. Derived from the tensor shapes:
    /// <see cref="Ch"/> and <see cref="InChannels"/> from encoder.conv_in.weight [ch, in, 3, 3]; one <see cref="ChMult"/>
    /// entry per encoder.down.N level, the width of its block.0.conv1 divided by ch; <see cref="NumResBlocks"/> from the
    /// count of encoder.down.0.block.M; <see cref="ZChannels"/> as half of encoder.conv_out.weight's rows (mean and
    /// log-variance); <see cref="OutCh"/> from decoder.conv_out.weight. Fixed for the family, from BFL's flux-dev
    /// AutoEncoderParams: <see cref="ScaleFactor"/> 0.3611, <see cref="ShiftFactor"/> 0.1159, <see cref="Resolution"/> 256
    /// (nominal; no layer depends on it), and GroupNorm with <see cref="NormGroups"/> groups, which the file cannot show.
    /// Every tensor is then checked against the derived config: a missing key, an extra key or a shape that disagrees
    /// throws <see cref="InvalidDataException"/> naming the key and <paramref name="fileName"/>.
    /// </summary>
    public static AutoencoderConfig FromBflShapes(IReadOnlyDictionary<string, long[]> shapes, string fileName)
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(fileName);

        long[] Shape(string key, int rank)
        {
            if (!shapes.TryGetValue(key, out var shape))
                throw new InvalidDataException($"Missing key '{key}' in '{fileName}': a BFL autoencoder (ae.safetensors) has it.");
            if (shape.Length != rank)
                throw new InvalidDataException($"Tensor '{key}' in '{fileName}' has shape [{string.Join(", ", shape)}]; expected {rank} dimensions.");
            return shape;
        }

        int Count(string key, long value)
        {
            if (value <= 0 || value > int.MaxValue)
                throw new InvalidDataException($"Tensor '{key}' in '{fileName}' gives a width of {value}; expected a positive int.");
            return (int)value;
        }

        var convIn = Shape("encoder.conv_in.weight", 4);
        int ch = Count("encoder.conv_in.weight", convIn[0]);
        int inChannels = Count("encoder.conv_in.weight", convIn[1]);

        var chMult = new List<int>();
        while (shapes.ContainsKey($"encoder.down.{chMult.Count}.block.0.conv1.weight"))
        {
            string key = $"encoder.down.{chMult.Count}.block.0.conv1.weight";
            long width = Shape(key, 4)[0];
            if (width % ch != 0)
                throw new InvalidDataException($"Tensor '{key}' in '{fileName}' has {width} output channels; expected a multiple of ch = {ch} (encoder.conv_in's width).");
            chMult.Add(Count(key, width / ch));
        }
        if (chMult.Count == 0) _ = Shape("encoder.down.0.block.0.conv1.weight", 4);

        int resBlocks = 0;
        while (shapes.ContainsKey($"encoder.down.0.block.{resBlocks}.conv1.weight")) resBlocks++;

        var convOut = Shape("encoder.conv_out.weight", 4);
        if (convOut[0] % 2 != 0)
            throw new InvalidDataException($"Tensor 'encoder.conv_out.weight' in '{fileName}' has {convOut[0]} output channels; expected an even count (mean and log-variance).");
        int zChannels = Count("encoder.conv_out.weight", convOut[0] / 2);
        int outChannels = Count("decoder.conv_out.weight", Shape("decoder.conv_out.weight", 4)[0]);

        var config = new AutoencoderConfig(BflResolution, inChannels, ch, outChannels, [.. chMult], resBlocks, zChannels, BflScaleFactor, BflShiftFactor);
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"'{fileName}' holds an autoencoder that cannot be built: {e.Message}", e);
        }
        CheckShapes(config, shapes, fileName);
        return config;
    }

    static void CheckShapes(AutoencoderConfig config, IReadOnlyDictionary<string, long[]> shapes, string fileName)
    {
        var names = new AutoencoderCheckpointNames(config);
        string model = AutoencoderCheckpointNames.Describe(config);
        foreach (var name in names.Tensors)
        {
            if (!shapes.TryGetValue(name.BflKey, out var shape))
                throw new InvalidDataException($"Missing key '{name.BflKey}' in '{fileName}': the autoencoder {model} its other tensors describe needs it.");
            if (!shape.SequenceEqual(name.BflShape))
                throw new InvalidDataException($"Tensor '{name.BflKey}' in '{fileName}' has shape [{string.Join(", ", shape)}]; the autoencoder {model} its other tensors describe needs [{string.Join(", ", name.BflShape)}].");
        }
        foreach (string key in shapes.Keys)
        {
            if (names.MapBflKey(key, shapes[key]) is null)
                throw new InvalidDataException($"Unexpected key '{key}' in '{fileName}': not a tensor of the autoencoder {model}.");
        }
    }
}
