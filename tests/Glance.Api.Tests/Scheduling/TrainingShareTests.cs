using Glance.Api.Scheduling;

namespace Glance.Api.Tests.Scheduling;

public sealed class TrainingShareTests
{
    /// <summary>Which of the next slots training takes when each slot it declines goes to a generation step.</summary>
    static string Slots(double share, int count)
    {
        int training = 0, generation = 0;
        var slots = new System.Text.StringBuilder();
        for (int i = 0; i < count; i++)
        {
            bool train = TrainingShare.ShouldTrain(generationWaiting: true, training, generation, share);
            slots.Append(train ? 'T' : 'G');
            if (train) training++;
            else generation++;
        }
        return slots.ToString();
    }

    [Theory]
    [InlineData(0.5, "GTGTGTGT")]
    [InlineData(0.25, "GGGTGGGT")]
    [InlineData(0.0, "GGGGGGGG")]
    [InlineData(1.0, "TTTTTTTT")]
    public void WhileRequestsWaitTrainingTakesAtMostItsShareOfTheSlots(double share, string expected) =>
        Assert.Equal(expected, Slots(share, 8));

    [Fact]
    public void WithNoRequestWaitingTrainingTakesEverySlot() =>
        Assert.True(TrainingShare.ShouldTrain(generationWaiting: false, trainingSlots: 100, generationSlots: 0, maxShare: 0.0));
}
