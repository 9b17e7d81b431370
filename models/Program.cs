using CoLaR.Modules;

foreach (var entry in ModelRegistry.All) Console.WriteLine($"{entry.Name,-12} {entry.Spec.Summary()}");
