//! Stored records of announcements (issue 10). Their `type` names start
//! with `announcement_`, so a reader tells them apart before decoding; they
//! are new record types at the current event format, no shape changed.

use super::StoredError;
use serde::{Deserialize, Serialize};
use wz_domain as d;
use wz_domain::announce::{AnnouncementEvent as E, AnnouncementId};

// The prefix is part of the names on disk.
#[allow(clippy::enum_variant_names)]
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum AnnouncementRecord {
    AnnouncementMade {
        announcement: u32,
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        venues: Vec<String>,
        at: u64,
    },
    AnnouncementCleared {
        announcement: u32,
        at: u64,
    },
    AnnouncementSeen {
        announcement: u32,
        venue: String,
        at: u64,
    },
}

pub(super) const PREFIX: &str = "announcement_";

pub(super) fn encode(e: &E) -> AnnouncementRecord {
    match e {
        E::Made { announcement, text, venues, at } => AnnouncementRecord::AnnouncementMade {
            announcement: announcement.0,
            text: text.clone(),
            venues: venues.iter().map(|v| v.0.clone()).collect(),
            at: at.0,
        },
        E::Cleared { announcement, at } => AnnouncementRecord::AnnouncementCleared { announcement: announcement.0, at: at.0 },
        E::Seen { announcement, venue, at } => {
            AnnouncementRecord::AnnouncementSeen { announcement: announcement.0, venue: venue.0.clone(), at: at.0 }
        }
    }
}

pub(super) fn decode(r: AnnouncementRecord) -> Result<E, StoredError> {
    let id = AnnouncementId;
    Ok(match r {
        AnnouncementRecord::AnnouncementMade { announcement, text, venues, at } => {
            E::Made { announcement: id(announcement), text, venues: venues.into_iter().map(d::VenueId).collect(), at: d::Millis(at) }
        }
        AnnouncementRecord::AnnouncementCleared { announcement, at } => E::Cleared { announcement: id(announcement), at: d::Millis(at) },
        AnnouncementRecord::AnnouncementSeen { announcement, venue, at } => {
            E::Seen { announcement: id(announcement), venue: d::VenueId(venue), at: d::Millis(at) }
        }
    })
}
