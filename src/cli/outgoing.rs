//! What enqueueing a notification needs outside a batch (the agent commands, the SLA pass),
//! built once from the settings: mailgate's own addresses, the signer of its Message-IDs and of
//! its reply tokens.

use crate::config::Settings;
use crate::outbox::enqueue::EnqueueSettings;
use crate::outbox::{Audience, OwnAddresses, OwnMessageIds};

/// What the enqueue functions need, built from the settings.
pub struct Outgoing {
    own: OwnAddresses,
    ids: Option<OwnMessageIds>,
    tokens: Option<crate::reply_token::ReplyTokens>,
}

impl Outgoing {
    pub fn new(settings: &Settings) -> Self {
        Self {
            own: OwnAddresses::of(settings),
            ids: settings.tickets.secret.clone().map(OwnMessageIds::new),
            tokens: settings
                .tickets
                .secret
                .clone()
                .map(crate::reply_token::ReplyTokens::new),
        }
    }

    pub fn settings<'a>(&'a self, settings: &'a Settings) -> EnqueueSettings<'a> {
        EnqueueSettings {
            support: &settings.tickets.support_address,
            own_ids: self.ids.as_ref(),
            audience: Audience {
                primary_contacts: &settings.notify.primary_contacts,
                technicians: &settings.notify.technicians,
                agents: &settings.notify.agents,
                own: &self.own,
            },
            cap: settings.notify.rate_cap,
            templates: &settings.notify.templates,
            max_automatic_recipients: settings.max_automatic_recipients,
            reply_tokens: self.tokens.as_ref(),
        }
    }
}
