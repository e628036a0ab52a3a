"""jobs.toml → typed, validated Config."""

from __future__ import annotations

from panda_tui.config.load import ConfigError, build_config, empty_config, job_from_defaults, load_config
from panda_tui.config.model import AlertTarget, Config, Job, SchedulerSettings

__all__ = ["AlertTarget", "Config", "ConfigError", "Job", "SchedulerSettings", "build_config", "empty_config",
           "job_from_defaults", "load_config"]
