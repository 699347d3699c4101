namespace Glance.Api.Validation;

/// <summary>Validation messages by field name (as the client spelled the field), for a ValidationProblem.</summary>
internal sealed class FieldErrors
{
    readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

    public bool IsEmpty => errors.Count == 0;

    public void Add(string field, string message)
    {
        if (!errors.TryGetValue(field, out List<string>? messages))
            errors[field] = messages = [];
        messages.Add(message);
    }

    public IDictionary<string, string[]> ToDictionary() =>
        errors.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>One line naming every field, for the problem's detail.</summary>
    public string Summary() => string.Join(" ", errors.SelectMany(pair => pair.Value));
}
