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
