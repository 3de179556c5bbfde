"""The projects opened lately, newest first: a small YAML file in the user's config folder.

:data:`RECENT_FILE` is its one name. The folder is the platform's place for settings
(``$XDG_CONFIG_HOME`` or ``~/.config`` on Linux, ``~/Library/Application Support`` on macOS,
``%APPDATA%`` on Windows), under ``posering/``. A missing or unreadable file is an empty list:
the list is a convenience and never stops the window from opening.
"""

from __future__ import annotations

import os
import sys

import yaml

from posering import storage

RECENT_FILE = "recent-projects.yaml"
KEEP = 12


def config_dir() -> str:
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or os.path.expanduser("~\\AppData\\Roaming")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(base, "posering")


def recent_file() -> str:
    return os.path.join(config_dir(), RECENT_FILE)


def load() -> list[str]:
    """Config locations (paths or s3:// URLs), newest first."""
    try:
        data = yaml.safe_load(storage.read_text(recent_file()))
    except Exception:  # missing, unreadable, not YAML: no list, never a failure
        return []
    items = data.get("projects") if isinstance(data, dict) else None
    return [str(item) for item in items if isinstance(item, str)] if isinstance(items, list) else []


def remember(location: str) -> list[str]:
    """Put ``location`` first in the list (saved at once); returns the new list."""
    projects = [location] + [p for p in load() if p != location]
    return save(projects[:KEEP])


def forget(location: str) -> list[str]:
    return save([p for p in load() if p != location])


def save(projects: list[str]) -> list[str]:
    """Write the list atomically (a crash keeps the old one); failures are ignored."""
    try:
        storage.makedirs(config_dir())
        storage.write_text(recent_file(), yaml.safe_dump({"projects": projects}, sort_keys=False))
    except Exception:  # a read-only home: the list is a convenience
        pass
    return projects
