"""The process: command line, launcher, logging, configuration loading and the scheduler.

See ARCHITECTURE.md for the layers and what each may import."""
