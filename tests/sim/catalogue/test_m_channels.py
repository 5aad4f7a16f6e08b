"""Catalogue M (spec 7.2): PagerDuty, Teams and enrichment, end to end through the fake backends."""

from __future__ import annotations

from harness._simfixture import Sim
from tests.sim.catalogue._kit import deliver

WORKFLOW = {"workflow": {"workflowId": "6f1c2a9e-uuid", "workflowName": "restart-deployment",
                         "selectedWorkflow": "6f1c2a9e-uuid"},
            "analysis": {"rootCause": "memory leak in web"}}


def test_pagerduty_channel_is_registered_and_delivers(sim: Sim) -> None:
    """7.2 M98: PD service registered via credential resolver; delivery succeeds through the orchestrator."""
    run = deliver(sim, "pager")
    assert [a["channel"] for a in run.attempts("alert")] == ["pagerduty:pager"]
    assert run.status("alert")["phase"] == "Sent"


def test_pagerduty_full_flow_hits_the_endpoint_once(sim: Sim) -> None:
    """7.2 M99: full delivery flow delivers to the mock PD endpoint: 1 hit, dedup_key = name, trigger."""
    (receipt,) = deliver(sim, "pager").receipts("alert")
    assert receipt.payload["dedup_key"] == "alert" and receipt.payload["event_action"] == "trigger"


def test_pagerduty_dedup_key_and_routing_key(sim: Sim) -> None:
    """7.2 M101: dedup_key in the delivered payload matches the NR name, and a routing key is sent."""
    (receipt,) = deliver(sim, "pager", priority="Critical").receipts("alert")
    assert receipt.payload["routing_key"].startswith("routing-key-pager-")
    assert receipt.payload["payload"]["severity"] == "critical"


def test_teams_channel_is_registered_and_delivers(sim: Sim) -> None:
    """7.2 M102-103: Teams service registered via credential resolver; full flow delivers to the endpoint."""
    run = deliver(sim, "teams-only")
    assert [a["channel"] for a in run.attempts("alert")] == ["teams:teams-only"]
    assert len(run.receipts("alert")) == 1


def test_teams_payload_is_the_workflows_format(sim: Sim) -> None:
    """7.2 M105: delivered payload uses the Workflows format, not the legacy MessageCard."""
    (receipt,) = deliver(sim, "teams-only", type="Escalation", context=WORKFLOW).receipts("alert")
    payload = receipt.payload
    assert payload["type"] == "message" and "@type" not in payload and "@context" not in payload
    card = payload["attachments"][0]["content"]
    assert card["version"] == "1.0" and "memory leak in web" in str(card)


def test_enrichment_resolves_the_workflow_uuid_to_its_name(sim: Sim) -> None:
    """7.2 M106: resolves the workflow UUID to the workflow name and delivers the enriched body."""
    run = deliver(sim, "slack-only", body="running 6f1c2a9e-uuid now", context=WORKFLOW)
    assert run.receipts("alert")[0].payload["blocks"][1]["text"]["text"] == "running restart-deployment now"


def test_enrichment_keeps_the_uuid_without_a_workflow_name(sim: Sim) -> None:
    """7.2 M107: delivery succeeds with the UUID when WorkflowName is not populated."""
    context = {"workflow": {"workflowId": "6f1c2a9e-uuid"}}
    run = deliver(sim, "slack-only", body="running 6f1c2a9e-uuid now", context=context)
    assert run.receipts("alert")[0].payload["blocks"][1]["text"]["text"] == "running 6f1c2a9e-uuid now"


def test_every_channel_receives_the_enriched_body(sim: Sim) -> None:
    """7.2 M108: all channels receive the enriched body (console and log)."""
    run = deliver(sim, "console-file-log", body="running 6f1c2a9e-uuid now", context=WORKFLOW)
    rig = run.result.rig
    assert rig is not None and any("running restart-deployment now" in line for line in rig.console)
    sent = [e for e in run.audit("alert") if e.event_type.endswith(".sent")]
    assert sent and all(e.payload["body"] == "running restart-deployment now" for e in sent)


def test_reload_replaces_the_pagerduty_and_teams_services(sim: Sim) -> None:
    """7.2 M100 and M104: a config reload replaces the PagerDuty and Teams services (v1 keys go, v2 keys come)."""
    from harness._run import build

    scenario = sim.scenario(channels={"pager": ["pagerduty"], "teams-only": ["teams"]},
                            reload_channels={"pager-v2": ["pagerduty"], "teams-v2": ["teams"]},
                            notifications=[{"name": "alert", "channels": "pager"}])
    world, rig, _ = build(scenario, sim.seed)
    rig.credentials.update({"pagerduty-pager-v2": "key-2", "teams-teams-v2": "https://teams.example/v2"})
    world.build()
    router = next(iter(rig.routers.values()))
    assert sorted(router.channels) == ["pagerduty:pager", "teams:teams-only"]
    world.on_routing_reload()  # type: ignore[misc]
    assert sorted(router.channels) == ["pagerduty:pager-v2", "teams:teams-v2"]
    world.close()
