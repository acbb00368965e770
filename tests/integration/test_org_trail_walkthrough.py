"""scripts/org-trail-walkthrough: the User Guide's organization-trail walkthrough, run with the
AWS CLI, prints what the page prints; and it notices when it does not."""

import os
import subprocess

from conftest import BINARY, ROOT, aws_cli

SCRIPT = os.path.join(ROOT, "scripts", "org-trail-walkthrough")


def walkthrough(endpoint=None, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CAIRN_"))}
    cli = aws_cli()
    env.update(AWS_CLI=cli, CAIRN_BIN=BINARY, PATH=os.path.dirname(cli) + os.pathsep + env.get("PATH", ""))
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env.update(env_extra)
    p = subprocess.run([SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_walkthrough_matches_the_page_against_a_running_cairn(fresh):
    code, out, err = walkthrough(fresh.endpoint)
    assert code == 0, out + err
    assert out.count("# matches the documented output") == 9
    assert "# walkthrough done: 9 outputs match the documentation" in out
    # What it left behind is what the page describes: a logging organization trail in every region.
    ct = fresh.client("cloudtrail", region="eu-west-1")
    [trail] = ct.describe_trails()["trailList"]
    assert (trail["Name"], trail["HomeRegion"], trail["IsOrganizationTrail"]) == ("my-trail", "us-east-2", True)
    assert ct.get_trail_status(Name=trail["TrailARN"])["IsLogging"] is True


def test_walkthrough_starts_its_own_cairn():
    code, out, err = walkthrough()
    assert code == 0, out + err
    assert "# Cairn at http://127.0.0.1:" in out
    assert "# walkthrough done: 9 outputs match the documentation" in out


def test_walkthrough_fails_on_a_difference(fresh):
    # In another region every TrailARN differs from the page's us-east-2 one.
    code, out, err = walkthrough(fresh.endpoint, AWS_DEFAULT_REGION="us-west-2")
    assert code != 0
    assert "DIFFERS from the documented output:" in err
    assert ("  TrailARN: documented 'arn:aws:cloudtrail:us-east-2:111111111111:trail/my-trail', "
            "got 'arn:aws:cloudtrail:us-west-2:111111111111:trail/my-trail'") in err
    assert "walkthrough done" not in out


def test_walkthrough_fails_when_a_command_fails(fresh):
    # The page assumes nothing exists yet: an organization already there stops it.
    fresh.client("organizations").create_organization()
    code, out, err = walkthrough(fresh.endpoint)
    assert code != 0
    assert "AlreadyInOrganizationException" in out
    assert "FAILED: " in err
