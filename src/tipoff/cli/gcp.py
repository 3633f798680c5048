"""Google Cloud: print the resources of one deployment."""

from __future__ import annotations

import json

import typer

from tipoff.cli.common import out
from tipoff.domain.gcp_plan import PlanConfig, build_plan, plan_document

gcp_app = typer.Typer(no_args_is_help=True, help="Google Cloud deployment plan.")


@gcp_app.command("plan")
def gcp_plan(project: str = typer.Option(..., "--project"),
             region: str = typer.Option(..., "--region"),
             coordinator_url: str | None = typer.Option(None, "--coordinator-url"),
             worker_url: str | None = typer.Option(None, "--worker-url"),
             image: str | None = typer.Option(None, "--image"),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Print every resource and its settings (no credentials, no calls to Google Cloud)."""
    config = PlanConfig(project, region, coordinator_url, worker_url, image)
    if as_json:
        typer.echo(json.dumps(plan_document(config), indent=2))
        return
    for resource in build_plan(config):
        out.print(f"{resource.kind} {resource.name}")
        for key, value in resource.settings.items():
            out.print(f"  {key}={value}")


@gcp_app.command("apply")
def gcp_apply(project: str = typer.Option(..., "--project"),
              region: str = typer.Option(..., "--region"),
              coordinator_url: str | None = typer.Option(None, "--coordinator-url"),
              worker_url: str | None = typer.Option(None, "--worker-url"),
              image: str | None = typer.Option(None, "--image"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """Create or update the plan's Pub/Sub resources; says what changed, what did not, what was skipped."""
    from tipoff import bootstrap
    config = PlanConfig(project, region, coordinator_url, worker_url, image)
    result = bootstrap.apply_gcp_plan(project, build_plan(config))
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    out.print("nothing changed" if not result["changed"] else f"changed: {', '.join(result['changed'])}")
    for skip in result["skipped"]:
        out.print(f"skipped {skip['name']}: {skip['reason']}")
