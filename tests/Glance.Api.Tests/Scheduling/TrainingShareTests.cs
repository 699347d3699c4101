using Glance.Api.Scheduling;

namespace Glance.Api.Tests.Scheduling;

public sealed class TrainingShareTests
{
    /// <summary>
    /// Which of the next slots training takes when each slot it declines goes to a generation step, a training step
    /// taking <paramref name="trainingMs"/> and a generation step <paramref name="generationMs"/>.
    /// </summary>
    static string Slots(double share, int count, int trainingMs = 10, int generationMs = 10)
    {
        TimeSpan training = TimeSpan.Zero, generation = TimeSpan.Zero, step = TimeSpan.FromMilliseconds(trainingMs);
        var slots = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            bool train = TrainingShare.ShouldTrain(generationWaiting: true, training, generation, step, share);
            slots.Append(train ? 'T' : 'G');
            if (train) training += step;
            else generation += TimeSpan.FromMilliseconds(generationMs);
        }
        return slots.ToString();
    }

    [Theory]
    [InlineData(0.5, "GTGTGTGT")]
    [InlineData(0.25, "GGGTGGGT")]
    [InlineData(0.0, "GGGGGGGG")]
    [InlineData(1.0, "TTTTTTTT")]
    public void WithStepsOfEqualCostTrainingTakesItsShareOfTheSlots(double share, string expected) =>
        Assert.Equal(expected, Slots(share, 8));

    [Theory]
    [InlineData(0.5, "GGGTGGGTGGGT")] // a training step costs three generation steps: three generation steps per training step
    [InlineData(0.25, "GGGGGGGGGTGG")]
    public void ATrainingStepThatCostsMoreTakesFewerSlots(double share, string expected) =>
        Assert.Equal(expected, Slots(share, 12, trainingMs: 30, generationMs: 10));

    [Fact]
    public void TrainingNeverTakesMoreThanItsShareOfTheTime()
    {
        foreach (double share in new[] { 0.1, 0.25, 0.4, 0.5 })
        {
            string slots = Slots(share, 400, trainingMs: 23, generationMs: 7);
            double training = slots.Count(s => s == 'T') * 23.0, generation = slots.Count(s => s == 'G') * 7.0;
            Assert.InRange(training / (training + generation), share * 0.9, share);
        }
    }

    [Fact]
    public void WithNoRequestWaitingTrainingTakesEverySlot() =>
        Assert.True(TrainingShare.ShouldTrain(generationWaiting: false, TimeSpan.FromSeconds(100), TimeSpan.Zero, TimeSpan.FromSeconds(1), maxShare: 0.0));
}
