"""Fixtures shared by the integration modules: the sign-in team of the isolation tests."""

from tests.integration.teams_data import team, team1  # noqa: F401  (fixtures: test_teams, test_teams_attacks)
