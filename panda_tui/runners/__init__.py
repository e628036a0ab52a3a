"""Runners: start a run in a container or as a local process, stream its output, find it again after a restart."""
