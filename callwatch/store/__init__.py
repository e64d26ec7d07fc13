"""Files and secrets: platformdirs paths, config and profiles, watch list, keyring."""
