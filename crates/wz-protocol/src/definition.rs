//! Session definition files and delegate CSV import.
//!
//! A county describes its own session in TOML or JSON (the same shape):
//!
//! ```toml
//! id = "xixia-2026"
//! title = "积极应对人口老龄化 加快发展养老服务 代表问政"
//! theme = "积极应对人口老龄化 加快发展养老服务"
//! [[venues]]
//! id = "main"
//! name = "县人大代表联络站主会场"
//! kind = "main"
//! [[units]]
//! id = "minzheng"
//! name = "县民政局"
//! [[topics]]
//! id = "policy"
//! name = "养老政策"
//! [[delegates]]
//! id = "d001"
//! name = "赵安华"
//! level = "county"
//! venue = "main"
//! ```
//!
//! Delegates may instead come from a CSV file with the header
//! `id,name,level,venue` (or `编号,姓名,层级,会场`), UTF-8 with or without BOM;
//! levels are the English codes or 省/市/县/乡/议政.

use crate::dto::{CheckInPolicy, DelegateDto, Level, LimitsDto, NamedDto, VenueDto};
use serde::{Deserialize, Serialize};
use wz_domain as d;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionDefinition {
    /// 1 to 64 characters of a-z, 0-9, `-` and `_`.
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub id: String,
    #[schema(min_length = 1)]
    pub title: String,
    #[serde(default)]
    pub theme: String,
    pub venues: Vec<VenueDto>,
    #[serde(default)]
    pub delegates: Vec<DelegateDto>,
    pub units: Vec<NamedDto>,
    pub topics: Vec<NamedDto>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<LimitsDto>,
    /// The session's time zone: `Asia/Shanghai` (the default), another
    /// zone of China, `UTC`, or a fixed offset such as `+08:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Who may check a delegate in: `operator` (the default), `confirmed`
    /// or `self`.
    #[serde(default)]
    pub check_in: CheckInPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum DefinitionFileError {
    #[error("TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(#[from] d::DefinitionError),
    #[error("CSV line {line}: {message}")]
    Csv { line: u64, message: String },
}

pub(crate) fn delegate_dto(x: &d::Delegate) -> DelegateDto {
    DelegateDto { id: x.id.0.clone(), name: x.name.clone(), level: x.level.into(), venue: x.venue.0.clone() }
}

pub(crate) fn delegate_from_dto(x: DelegateDto) -> d::Delegate {
    d::Delegate { id: d::DelegateId(x.id), name: x.name, level: x.level.into(), venue: d::VenueId(x.venue) }
}

impl SessionDefinition {
    pub fn from_toml(text: &str) -> Result<Self, DefinitionFileError> {
        Ok(toml::from_str(text)?)
    }
    pub fn from_json(text: &str) -> Result<Self, DefinitionFileError> {
        Ok(serde_json::from_str(text)?)
    }

    pub fn from_domain(def: &d::SessionDef) -> Self {
        let l = def.limits;
        Self {
            id: def.id.clone(),
            title: def.title.clone(),
            theme: def.theme.clone(),
            venues: def.venues.iter().map(|v| VenueDto { id: v.id.0.clone(), name: v.name.clone(), kind: v.kind.into() }).collect(),
            delegates: def.delegates.iter().map(delegate_dto).collect(),
            units: def.units.iter().map(|u| NamedDto { id: u.id.0.clone(), name: u.name.clone() }).collect(),
            topics: def.topics.iter().map(|u| NamedDto { id: u.id.0.clone(), name: u.name.clone() }).collect(),
            limits: Some(LimitsDto::from(&l)),
            // The default is left out, so headers written before time zones
            // existed and those written since read the same.
            time_zone: (def.time_zone != d::TimeZone::default()).then(|| def.time_zone.name.clone()),
            check_in: def.check_in.into(),
        }
    }

    /// Converts, cleans the texts (NFC, trimmed; control and bidi override
    /// characters refused: see `wz_domain::text`) and validates.
    pub fn into_domain(self) -> Result<d::SessionDef, d::DefinitionError> {
        let limits = self.limits.map_or_else(d::Limits::default, |l| d::Limits {
            question_chars: l.question_chars as usize,
            reason_chars: l.reason_chars as usize,
            answer_chars: l.answer_chars as usize,
            short_chars: l.short_chars as usize,
            questions_per_delegate: l.questions_per_delegate as usize,
            follow_ups_per_item: l.follow_ups_per_item as usize,
            commitments_per_answer: l.commitments_per_answer as usize,
            answer_seconds: l.answer_seconds,
            max_answer_seconds: l.max_answer_seconds,
            due_soon_days: l.due_soon_days,
        });
        let time_zone = match self.time_zone {
            None => d::TimeZone::default(),
            Some(name) => d::TimeZone::named(name.trim()).ok_or(d::DefinitionError::BadTimeZone(name))?,
        };
        let mut def = d::SessionDef {
            id: self.id,
            title: self.title,
            theme: self.theme,
            venues: self.venues.into_iter().map(|v| d::Venue { id: d::VenueId(v.id), name: v.name, kind: v.kind.into() }).collect(),
            delegates: self.delegates.into_iter().map(delegate_from_dto).collect(),
            units: self.units.into_iter().map(|u| d::Unit { id: d::UnitId(u.id), name: u.name }).collect(),
            topics: self.topics.into_iter().map(|u| d::Topic { id: d::TopicId(u.id), name: u.name }).collect(),
            limits,
            time_zone,
            check_in: self.check_in.into(),
        };
        def.normalize()?;
        def.validate()?;
        Ok(def)
    }
}

/// Parses a level written as an English code or in Chinese.
pub fn parse_level(s: &str) -> Option<Level> {
    Some(match s.trim() {
        "province" | "省" | "省级" | "省人大代表" => Level::Province,
        "city" | "市" | "市级" | "市人大代表" => Level::City,
        "county" | "县" | "县级" | "县人大代表" => Level::County,
        "township" | "乡" | "乡镇" | "乡级" | "乡镇人大代表" => Level::Township,
        "street_deliberation" | "议政" | "议政代表" | "街道议政代表" => Level::StreetDeliberation,
        _ => return None,
    })
}

/// Parses delegates from CSV (UTF-8, optional BOM, header row required).
pub fn parse_delegates_csv(bytes: &[u8]) -> Result<Vec<DelegateDto>, DefinitionFileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(bytes);
    let err = |line: u64, message: String| DefinitionFileError::Csv { line, message };
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |names: &[&str]| headers.iter().position(|h| names.contains(&h));
    let (Some(id), Some(name), Some(level), Some(venue)) =
        (col(&["id", "编号"]), col(&["name", "姓名"]), col(&["level", "层级", "级别"]), col(&["venue", "会场"]))
    else {
        return Err(err(1, "header must name the columns id,name,level,venue (or 编号,姓名,层级,会场)".into()));
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| err(line, e.to_string()))?;
        let get = |c: usize| rec.get(c).unwrap_or("").to_owned();
        let lv = get(level);
        out.push(DelegateDto {
            id: get(id),
            name: get(name),
            level: parse_level(&lv).ok_or_else(|| err(line, format!("unknown level {lv:?}")))?,
            venue: get(venue),
        });
    }
    Ok(out)
}

/// Converts imported delegate rows to domain delegates.
pub fn delegates_into_domain(rows: Vec<DelegateDto>) -> Vec<d::Delegate> {
    rows.into_iter().map(delegate_from_dto).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_chinese_headers_and_levels() {
        let csv = "\u{feff}编号,姓名,层级,会场\nd1,张三,县,main\nd2,李四,议政代表,baiyu\n";
        let rows = parse_delegates_csv(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].level, Level::County);
        assert_eq!(rows[1].level, Level::StreetDeliberation);
        assert_eq!(rows[1].venue, "baiyu");
    }

    fn definition(title: &str, venue_name: &str) -> SessionDefinition {
        let json = serde_json::json!({
            "id": "s", "title": title,
            "venues": [{"id": "main", "name": venue_name, "kind": "main"}],
            "units": [{"id": "u", "name": "县民政局"}], "topics": [{"id": "t", "name": "养老"}],
        });
        SessionDefinition::from_json(&json.to_string()).unwrap()
    }

    #[test]
    fn definition_texts_are_normalised_and_forbidden_characters_named() {
        let def = definition("\u{feff} Cafe\u{301} 问政 ", "主会场\u{200b}").into_domain().unwrap();
        assert_eq!(def.title, "Caf\u{e9} 问政");
        assert_eq!(def.venues[0].name, "主会场");
        let e = definition("问政\u{202e}", "主会场").into_domain().unwrap_err();
        assert_eq!(e.to_string(), "title contains the bidirectional formatting character U+202E");
        let e = definition("问政", "主\u{1b}会场").into_domain().unwrap_err();
        assert_eq!(e.to_string(), "venue main name contains the control character U+001B");
        let e = definition("\u{200b}\u{200d}", "主会场").into_domain().unwrap_err();
        assert_eq!(e, d::DefinitionError::EmptyTitle);
    }

    #[test]
    fn the_check_in_policy_is_read_and_defaults_to_operator() {
        let toml = |line: &str| {
            format!(
                "id = \"s\"\ntitle = \"问政\"\n{line}\n[[venues]]\nid = \"main\"\nname = \"主会场\"\nkind = \"main\"\n\
                 [[units]]\nid = \"u\"\nname = \"县民政局\"\n[[topics]]\nid = \"t\"\nname = \"养老\"\n"
            )
        };
        let policy = |line: &str| SessionDefinition::from_toml(&toml(line)).map(|x| x.into_domain().unwrap().check_in);
        assert_eq!(policy("").unwrap(), d::CheckInPolicy::Operator);
        assert_eq!(policy("check_in = \"operator\"").unwrap(), d::CheckInPolicy::Operator);
        assert_eq!(policy("check_in = \"confirmed\"").unwrap(), d::CheckInPolicy::Confirmed);
        assert_eq!(policy("check_in = \"self\"").unwrap(), d::CheckInPolicy::SelfService);
        let e = policy("check_in = \"anyone\"").unwrap_err().to_string();
        assert!(e.contains("check_in") || e.contains("unknown variant"), "{e}");
        // And it is written out again, so a stored header says it.
        let def = SessionDefinition::from_toml(&toml("check_in = \"confirmed\"")).unwrap().into_domain().unwrap();
        let json = serde_json::to_value(SessionDefinition::from_domain(&def)).unwrap();
        assert_eq!(json["check_in"], "confirmed");
    }

    #[test]
    fn csv_errors_name_the_line() {
        let csv = "id,name,level,venue\nd1,张三,mayor,main\n";
        let e = parse_delegates_csv(csv.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(parse_delegates_csv(b"a,b\n1,2\n").is_err());
    }
}
