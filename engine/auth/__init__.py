"""Authentication of helpdesk requests: none, Basic, Bearer/API token, OAuth2 authorization code."""

from engine.auth.base import Authenticator, AuthError, BasicAuth, BearerAuth, NoAuth, TokenHealth
from engine.auth.callback import CALLBACK_PATH, DEFAULT_CALLBACK_PORT, CallbackServer
from engine.auth.oauth2 import (
    AuthorizationRequest,
    OAuth2Auth,
    OAuth2Config,
    build_authorization_request,
    code_from_params,
    default_redirect_uri,
    parse_redirect,
    pbx_authentication_info,
    split_scopes,
)
from engine.auth.tokens import TokenSet, TokenStore

__all__ = [
    "CALLBACK_PATH", "DEFAULT_CALLBACK_PORT", "AuthError", "Authenticator", "AuthorizationRequest", "BasicAuth",
    "BearerAuth", "CallbackServer", "NoAuth", "OAuth2Auth", "OAuth2Config", "TokenHealth", "TokenSet",
    "TokenStore", "build_authorization_request", "code_from_params", "default_redirect_uri", "parse_redirect",
    "pbx_authentication_info", "split_scopes",
]
