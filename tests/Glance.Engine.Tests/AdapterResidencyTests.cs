using Glance.Engine.Lora;

namespace Glance.Engine.Tests;

/// <summary>The least-recently-used residency policy, on names and byte counts alone.</summary>
public class AdapterResidencyTests
{
    static AdapterResidency WithResident(long budget, params string[] names)
    {
        var residency = new AdapterResidency(budget);
        foreach (string name in names) Assert.True(residency.Admit(name, 100), $"{name} should fit the budget of {budget}");
        return residency;
    }

    static ResidencyPlan Run(AdapterResidency residency, params string[] needed)
    {
        var plan = residency.Plan(needed);
        residency.Commit(plan);
        return plan;
    }

    [Fact]
    public void TheLeastRecentlyUsedAdapterIsEvictedFirst()
    {
        var residency = WithResident(300, "a", "b", "c");
        Assert.False(residency.Admit("d", 100));
        Run(residency, "a");
        Run(residency, "c");

        var plan = Run(residency, "d");

        Assert.Equal(["d"], plan.Load);
        Assert.Equal(["b"], plan.Evict);
        Assert.False(residency.IsResident("b"));
        Assert.Equal(300, residency.ResidentBytes);

        Assert.Equal(["a"], Run(residency, "b").Evict);
    }

    [Fact]
    public void AnAdapterTheStepNeedsIsNeverEvictedEvenWhenLeastRecentlyUsed()
    {
        var residency = WithResident(200, "old", "recent");
        Assert.False(residency.Admit("new", 100));
        Run(residency, "recent");

        var plan = Run(residency, "old", "new");

        Assert.Equal(["recent"], plan.Evict);
        Assert.True(residency.IsResident("old"));
        Assert.True(residency.IsResident("new"));
    }

    [Fact]
    public void NeededAdaptersBeyondTheBudgetAreStillLoadedAndEverythingElseEvicted()
    {
        var residency = WithResident(250, "a", "b");
        Assert.False(residency.Admit("c", 100));
        Assert.False(residency.Admit("d", 100));

        var plan = Run(residency, "b", "c", "d");

        Assert.True(plan.OverBudget);
        Assert.Equal(300, plan.NeededBytes);
        Assert.Equal(["c", "d"], plan.Load);
        Assert.Equal(["a"], plan.Evict);
        Assert.Equal(300, residency.ResidentBytes);

        // The next step within the budget brings the resident bytes back under it.
        var next = Run(residency, "c");
        Assert.False(next.OverBudget);
        Assert.Equal(["b"], next.Evict);
        Assert.Equal(200, residency.ResidentBytes);
    }

    [Fact]
    public void AdmittingNeverEvictsAndLandsOffloadedWhenItDoesNotFit()
    {
        var residency = WithResident(150, "running");

        Assert.False(residency.Admit("big", 100));
        Assert.True(residency.Admit("small", 50));

        Assert.True(residency.IsResident("running"));
        Assert.False(residency.IsResident("big"));
        Assert.Equal(150, residency.ResidentBytes);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0L)]
    public void WithoutABudgetEverythingIsResidentAndNothingMoves(long? budget)
    {
        var residency = new AdapterResidency(budget);
        foreach (string name in new[] { "a", "b", "c" }) Assert.True(residency.Admit(name, 1L << 40));

        var plan = Run(residency, "a", "b", "c");

        Assert.True(residency.IsUnlimited);
        Assert.True(plan.MovesNothing);
        Assert.False(plan.OverBudget);
        Assert.Equal(3L << 40, residency.ResidentBytes);
    }

    [Fact]
    public void PlanningChangesNothingUntilCommitted()
    {
        var residency = WithResident(100, "a");
        Assert.False(residency.Admit("b", 100));

        var first = residency.Plan(["b"]);
        var second = residency.Plan(["b"]);

        Assert.Equal(first.Load, second.Load);
        Assert.Equal(first.Evict, second.Evict);
        Assert.True(residency.IsResident("a"));
        Assert.False(residency.IsResident("b"));
    }

    [Fact]
    public void ForgettingAResidentAdapterFreesItsBytesAndUntrackedNamesAreIgnored()
    {
        var residency = WithResident(200, "a", "b");

        Assert.True(residency.Forget("a"));
        var plan = Run(residency, "gone", "b");

        Assert.Equal(100, residency.ResidentBytes);
        Assert.Equal(["b"], plan.Needed);
        Assert.True(plan.MovesNothing);
        Assert.False(residency.Forget("a"));
    }

    [Fact]
    public void ANegativeBudgetIsRefusedNamingIt()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new AdapterResidency(-1));

        Assert.Equal("budgetBytes", error.ParamName);
        Assert.Equal(-1L, error.ActualValue);
    }
}
