// `colar`: the command line over every model declared in this assembly (Backbones/, Reasoners/).
return CoLaR.Models.Cli.CommandLine.Run(args);
