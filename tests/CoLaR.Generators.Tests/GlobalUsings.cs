global using Xunit;
global using CoLaR.Generators.Tests.Infrastructure;
