// Many tests here seed torch's one global generator (torch.manual_seed) and then build two models that must start
// equal. Test classes running in parallel would draw from that generator between the two builds, so the classes of
// this assembly run one after another.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
