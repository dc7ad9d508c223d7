// Placeholder entry point; the CLI is built in src/AwsTunnel.Cli.
return 0;
