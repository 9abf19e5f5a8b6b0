package slack

import (
	"fmt"
	"slices"
	"strings"
)

// botOnlyScopes are Slack scopes that exist for bot tokens only (Slack's
// scope reference lists "Bot" as their only token type). Most other scope
// names are valid for both token types: what makes one a user scope is
// that it is requested in user_scope. The list is not exhaustive; Slack
// itself refuses other bot-only scopes on the authorization page.
var botOnlyScopes = []string{
	"app_mentions:read",
	"assistant:write",
	"bot",
	"channels:join",
	"channels:manage",
	"chat:write.customize",
	"chat:write.public",
	"commands",
	"incoming-webhook",
	"workflow.steps:execute",
}

// CheckUserScopes refuses scopes that Slack grants to bot tokens only,
// with an error matching ErrBotScope. Apps that use PKCE are public clients:
// Slack gives them user tokens only, so every scope this driver requests is
// a user scope (sent as user_scope).
func CheckUserScopes(scopes []string) error {
	var bot []string
	for _, s := range scopes {
		if slices.Contains(botOnlyScopes, s) {
			bot = append(bot, s)
		}
	}
	if len(bot) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s: bot scope(s), which Slack grants to bot tokens only, and a PKCE app's localhost redirect is a desktop redirect, which gets a user token: request user scopes (those Slack's scope reference lists for the User token type), or install the bot with a confidential client outside mcpauth",
		ErrBotScope, strings.Join(bot, ", "))
}
