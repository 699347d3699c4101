using Glance.Api.Scheduling;

namespace Glance.Api.Tests.Scheduling;

public class BatchPolicyTests
{
    static readonly BatchLimits Limits = new(MaxBatchSize: 3, MaxRunning: 6);

    static BatchCandidate Small(long id, long lastProgressAt) => new(id, 512, 512, lastProgressAt);

    static BatchCandidate Large(long id, long lastProgressAt) => new(id, 1024, 1024, lastProgressAt);

    [Fact]
    public void AMemoryCapLimitsOnlyItsOwnResolution()
    {
        var limits = Limits with { MemoryCaps = new Dictionary<(int, int), int> { [(1024, 1024)] = 1 } };

        BatchDecision large = BatchPolicy.Plan([Large(1, 10)], [Large(2, 20), Large(3, 30)], limits);
        BatchDecision small = BatchPolicy.Plan([Small(1, 10)], [Small(2, 20), Small(3, 30)], limits);

        Assert.Equal([1L], large.Step);
        Assert.Empty(large.Admit);
        Assert.Equal([1L, 2, 3], small.Step);
    }

    [Fact]
    public void AMemoryCapAboveMaxBatchSizeChangesNothing()
    {
        var limits = Limits with { MemoryCaps = new Dictionary<(int, int), int> { [(512, 512)] = 8 } };

        BatchDecision decision = BatchPolicy.Plan([], [Small(1, 10), Small(2, 20), Small(3, 30), Small(4, 40)], limits);

        Assert.Equal([1L, 2, 3], decision.Step);
    }

    [Fact]
    public void NothingToDoIsIdle()
    {
        BatchDecision decision = BatchPolicy.Plan([], [], Limits);

        Assert.True(decision.IsIdle);
        Assert.Empty(decision.Admit);
    }

    [Fact]
    public void AdmitsOldestWaitingUpToMaxBatchSize()
    {
        BatchCandidate[] waiting = [Small(4, 40), Small(1, 10), Small(3, 30), Small(2, 20)];

        BatchDecision decision = BatchPolicy.Plan([], waiting, Limits);

        Assert.Equal([1L, 2, 3], decision.Admit);
        Assert.Equal([1L, 2, 3], decision.Step);
    }

    [Fact]
    public void AdmittedRequestsJoinRunningOnesOfTheSameResolution()
    {
        BatchDecision decision = BatchPolicy.Plan([Small(1, 100)], [Small(2, 50), Small(3, 60), Small(4, 70)], Limits);

        Assert.Equal([2L, 3], decision.Admit);
        Assert.Equal([1L, 2, 3], decision.Step);
    }

    [Fact]
    public void NeverMixesResolutionsInOneStep()
    {
        BatchDecision decision = BatchPolicy.Plan([Small(1, 10), Large(2, 11)], [Small(3, 12), Large(4, 13)], Limits);

        Assert.Equal([1L, 3], decision.Step);
        Assert.Equal([3L], decision.Admit);
    }

    [Fact]
    public void PicksTheGroupHoldingTheLongestWaitingRequest()
    {
        BatchDecision decision = BatchPolicy.Plan([Small(1, 50)], [Large(2, 20)], Limits);

        Assert.Equal([2L], decision.Step);
        Assert.Equal([2L], decision.Admit);
    }

    [Fact]
    public void TiesGoToTheOlderRequest()
    {
        BatchDecision decision = BatchPolicy.Plan([], [Large(7, 10), Small(3, 10)], Limits);

        Assert.Equal([3L], decision.Step);
    }

    [Fact]
    public void AdmissionStopsAtMaxRunning()
    {
        var limits = new BatchLimits(MaxBatchSize: 3, MaxRunning: 3);
        BatchCandidate[] running = [Large(1, 1), Large(2, 2), Small(3, 3)];

        BatchDecision decision = BatchPolicy.Plan(running, [Small(4, 0), Small(5, 0)], limits);

        Assert.Empty(decision.Admit);
        Assert.Equal([1L, 2], decision.Step);
    }

    [Fact]
    public void AnOversizedRunningGroupStepsItsMostOverdueMembersFirst()
    {
        var limits = new BatchLimits(MaxBatchSize: 2, MaxRunning: 8);
        BatchCandidate[] running = [Small(1, 30), Small(2, 10), Small(3, 20)];

        BatchDecision decision = BatchPolicy.Plan(running, [], limits);

        Assert.Equal([2L, 3], decision.Step);
    }

    [Fact]
    public void EveryGroupProgressesUnderSteadyLoad()
    {
        // Two resolution groups with arrivals at every tick: both must keep stepping, neither may starve.
        var limits = new BatchLimits(MaxBatchSize: 2, MaxRunning: 4);
        var running = new Dictionary<long, (BatchCandidate Candidate, int StepsLeft)>();
        var waiting = new List<BatchCandidate>();
        var stepsByWidth = new Dictionary<int, int> { [512] = 0, [1024] = 0 };
        long nextId = 1;
        for (long tick = 1; tick <= 200; tick++)
        {
            waiting.Add(Small(nextId++, tick));
            waiting.Add(Large(nextId++, tick));
            BatchDecision decision = BatchPolicy.Plan([.. running.Values.Select(r => r.Candidate)], waiting, limits);
            Assert.False(decision.IsIdle);
            foreach (long id in decision.Admit)
            {
                BatchCandidate admitted = waiting.Single(c => c.Id == id);
                waiting.Remove(admitted);
                running[id] = (admitted, 5);
            }
            Assert.Single(decision.Step.Select(id => running[id].Candidate.Width).Distinct());
            foreach (long id in decision.Step)
            {
                (BatchCandidate candidate, int left) = running[id];
                stepsByWidth[candidate.Width]++;
                if (left == 1) running.Remove(id);
                else running[id] = (candidate with { LastProgressAt = tick }, left - 1);
            }
        }
        Assert.InRange(stepsByWidth[512], 150, 250);
        Assert.InRange(stepsByWidth[1024], 150, 250);
    }

    [Fact]
    public void RejectsLimitsThatCanNeverFillABatch()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchPolicy.Plan([], [], new BatchLimits(4, 2)));
    }
}
