"""Google Cloud: print the resources of one deployment, or create/update them."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from tipoff.cli.common import JsonOption, out
from tipoff.domain.gcp_plan import PlanConfig, build_plan, plan_document

# The options of one deployment, shared by plan and apply.
Project = Annotated[str, typer.Option("--project")]
Region = Annotated[str, typer.Option("--region")]
CoordinatorUrl = Annotated[Optional[str], typer.Option("--coordinator-url")]
WorkerUrl = Annotated[Optional[str], typer.Option("--worker-url")]
Image = Annotated[Optional[str], typer.Option("--image")]
Endpoint = Annotated[Optional[str], typer.Option(
    "--endpoint", help="REST endpoint of a local stand-in for Cloud Run and Cloud Scheduler "
    "(http://HOST:PORT; anonymous credentials). Default: Google, with Application Default "
    "Credentials.")]
IamEndpoint = Annotated[Optional[str], typer.Option(
    "--iam-endpoint", help="gRPC HOST:PORT of a local stand-in for the IAM admin API "
    "(plaintext; with --endpoint).")]

gcp_app = typer.Typer(no_args_is_help=True, help="Google Cloud deployment: plan and apply.")


@gcp_app.command("plan")
def gcp_plan(project: Project, region: Region, coordinator_url: CoordinatorUrl = None,
             worker_url: WorkerUrl = None, image: Image = None,
             as_json: JsonOption = False) -> None:
    """Print every resource and its settings (no credentials, no calls to Google Cloud)."""
    config = PlanConfig(project, region, coordinator_url, worker_url, image)
    if as_json:
        typer.echo(json.dumps(plan_document(config), indent=2))
        return
    for resource in build_plan(config):
        out.print(f"{resource.kind} {resource.name}", highlight=False, markup=False)
        for key, value in resource.settings.items():
            shown = value if isinstance(value, str) else json.dumps(value)  # never a repr
            out.print(f"  {key}={shown}", highlight=False, markup=False)


@gcp_app.command("apply")
def gcp_apply(project: Project, region: Region, coordinator_url: CoordinatorUrl = None,
              worker_url: WorkerUrl = None, image: Image = None, endpoint: Endpoint = None,
              iam_endpoint: IamEndpoint = None, as_json: JsonOption = False) -> None:
    """Create or update every resource of the plan; says what changed, what did not, what was skipped."""
    from tipoff import bootstrap
    config = PlanConfig(project, region, coordinator_url, worker_url, image)
    result = bootstrap.apply_gcp_plan(project, build_plan(config), endpoint, iam_endpoint)
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    out.print("nothing changed" if not result["changed"] else f"changed: {', '.join(result['changed'])}")
    for skip in result["skipped"]:
        out.print(f"skipped {skip['name']}: {skip['reason']}")
