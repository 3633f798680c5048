"""Model artefacts on disk: one JSON file each (xgboost's own JSON model inside, no pickle)."""

from __future__ import annotations

from pathlib import Path

from tipoff.domain.systems import ModelArtifact, PredictionUnavailable


def save_model(artifact: ModelArtifact, path: str | Path) -> Path:
    """Write the artefact to ``path``, replacing any previous file atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(artifact.to_json(), encoding="utf-8")
    partial.replace(target)  # readers never see a half-written model
    return target


def load_model_file(path: str | Path) -> ModelArtifact:
    """Read an artefact; a missing, unreadable or corrupt file raises ``PredictionUnavailable``
    (which fails the xgboost system only)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise PredictionUnavailable(f"no model at {source}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise PredictionUnavailable(f"model at {source} is unreadable: {exc}") from exc
    return ModelArtifact.from_json(text)


class FileModelStore:
    """The ``ModelStore`` port on a folder: ``NAME.json`` per artefact, replaced atomically
    (``suffix=""`` when names are whole file names)."""

    def __init__(self, model_dir: str | Path, *, suffix: str = ".json") -> None:
        self._dir = Path(model_dir)
        self._suffix = suffix

    def __repr__(self) -> str:
        return f"FileModelStore({str(self._dir)!r})"

    def path(self, name: str) -> Path:
        """The file of artefact ``name``."""
        return self._dir / f"{name}{self._suffix}"

    def save(self, artifact: ModelArtifact, name: str) -> str:
        """Write ``artifact`` as ``NAME.json``, atomically; return the file's path."""
        return str(save_model(artifact, self.path(name)))

    def where(self, name: str) -> str:
        """The file of ``name``."""
        return str(self.path(name))

    def load(self, name: str) -> ModelArtifact:
        """Read ``NAME.json``; missing or corrupt raises ``PredictionUnavailable``."""
        return load_model_file(self.path(name))

    def exists(self, name: str) -> bool:
        """Whether ``NAME.json`` exists."""
        return self.path(name).exists()
