"""The WeCom self-built app (自建应用): its configuration, its API client and its access token."""
