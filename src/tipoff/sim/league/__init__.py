"""The synthetic league: a deterministic season of teams, games, box scores, injuries, lines."""
