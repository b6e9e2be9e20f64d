//! The demo session, modelled on Xixia County's questioning session on
//! elderly care (see `shared/seed`): one main venue, the county's 19
//! township and street liaison stations, 320 delegates of all five levels,
//! the respondent units and the seven topics.
//!
//! Names are generated deterministically so every fresh demo looks the same.

use wz_domain::{
    CheckInPolicy, Delegate, DelegateId, DelegateLevel, Limits, SessionDef, Topic, TopicId, Unit, UnitId, Venue, VenueId, VenueKind,
};

pub const DEMO_SESSION_ID: &str = "xixia-2026";

/// The demo's check-in policy: the delegate taps 签到 on the phone and the
/// station confirms it, so trying the demo shows both ends of check-in.
/// (A definition that says nothing gets `operator`; `serve --demo-check-in`
/// seeds the demo with another policy.)
pub const DEMO_CHECK_IN: CheckInPolicy = CheckInPolicy::Confirmed;

/// (id, name, is a street) of the 19 sub-venues.
pub const SUB_VENUES: [(&str, &str, bool); 19] = [
    ("baiyu", "白羽街道", true),
    ("zijin", "紫金街道", true),
    ("lianhua", "莲花街道", true),
    ("dinghe", "丁河镇", false),
    ("sangping", "桑坪镇", false),
    ("miping", "米坪镇", false),
    ("shuanglong", "双龙镇", false),
    ("huiche", "回车镇", false),
    ("danshui", "丹水镇", false),
    ("xiping", "西坪镇", false),
    ("chongyang", "重阳镇", false),
    ("taiping", "太平镇", false),
    ("yangcheng", "阳城镇", false),
    ("erlangping", "二郎坪镇", false),
    ("wuliqiao", "五里桥镇", false),
    ("zhaigen", "寨根乡", false),
    ("tianguan", "田关乡", false),
    ("junmahe", "军马河乡", false),
    ("shijiehe", "石界河乡", false),
];

pub const UNITS: [(&str, &str); 6] = [
    ("vice_county_head", "分管副县长"),
    ("minzheng", "县民政局"),
    ("weijian", "县卫生健康委员会"),
    ("caizheng", "县财政局"),
    ("renshe", "县人力资源和社会保障局"),
    ("yibao", "县医疗保障局"),
];

pub const TOPICS: [(&str, &str); 7] = [
    ("policy", "养老政策"),
    ("projects", "项目建设"),
    ("training", "护理培训"),
    ("services", "养老服务"),
    ("funds", "资金使用"),
    ("medical", "医养融合"),
    ("operations", "运营管理"),
];

const SURNAMES: &[char] = &[
    '王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴', '徐', '孙', '胡', '朱', '高', '林', '何', '郭', '马', '罗', '梁', '宋',
    '郑', '谢', '韩', '唐', '冯', '于', '董', '萧', '程', '曹', '袁', '邓', '许', '傅', '沈', '曾', '彭', '吕',
];
const GIVEN: &[&str] = &[
    "建国", "秀英", "志强", "桂兰", "国华", "丽娟", "海涛", "春梅", "永胜", "玉兰", "德明", "红霞", "新民", "淑珍", "文斌", "晓燕", "振华",
    "金凤", "卫东", "素芬", "明亮", "翠萍", "安华", "秋菊", "长青", "雪梅", "立新", "慧敏", "保国", "艳玲", "树林", "凤英",
];

/// Delegates at the main venue; the rest are spread evenly over the sub-venues.
const MAIN_DELEGATES: usize = 35;
const PER_SUB_VENUE: usize = 15;

/// The demo definition: 1 + 19 venues and exactly 320 delegates.
pub fn definition() -> SessionDef {
    let mut venues = vec![Venue { id: VenueId::new("main"), name: "县人大代表联络站主会场".into(), kind: VenueKind::Main }];
    venues.extend(SUB_VENUES.iter().map(|(id, name, _)| Venue {
        id: VenueId::new(*id),
        name: format!("{name}人大代表联络站"),
        kind: VenueKind::Sub,
    }));
    let mut delegates = Vec::with_capacity(320);
    let mut n = 0usize;
    let mut add = |venue: &str, level: DelegateLevel, delegates: &mut Vec<Delegate>| {
        n += 1;
        let name = format!("{}{}", SURNAMES[(n * 7) % SURNAMES.len()], GIVEN[(n * 11 + n / SURNAMES.len()) % GIVEN.len()]);
        delegates.push(Delegate { id: DelegateId(format!("d{n:03}")), name, level, venue: VenueId::new(venue) });
    };
    // Main venue: the province and city delegates and the county standing committee members.
    for i in 0..MAIN_DELEGATES {
        let level = match i {
            0..=2 => DelegateLevel::Province,
            3..=9 => DelegateLevel::City,
            _ => DelegateLevel::County,
        };
        add("main", level, &mut delegates);
    }
    // Sub-venues: county delegates of the township, then township delegates;
    // streets have no congress of their own, so they send deliberation delegates.
    for (i, (id, _, street)) in SUB_VENUES.iter().enumerate() {
        for j in 0..PER_SUB_VENUE {
            let level = match j {
                0 if i % 4 == 0 => DelegateLevel::City,
                0..=3 => DelegateLevel::County,
                _ if *street => DelegateLevel::StreetDeliberation,
                _ => DelegateLevel::Township,
            };
            add(id, level, &mut delegates);
        }
    }
    SessionDef {
        id: DEMO_SESSION_ID.into(),
        title: "“积极应对人口老龄化 加快发展养老服务”代表问政".into(),
        theme: "积极应对人口老龄化 加快发展养老服务".into(),
        venues,
        delegates,
        units: UNITS.iter().map(|(id, name)| Unit { id: UnitId::new(*id), name: (*name).into() }).collect(),
        topics: TOPICS.iter().map(|(id, name)| Topic { id: TopicId::new(*id), name: (*name).into() }).collect(),
        limits: Limits::default(),
        time_zone: Default::default(),
        check_in: DEMO_CHECK_IN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_matches_the_article() {
        let def = definition();
        def.validate().unwrap();
        assert_eq!(def.venues.len(), 20);
        assert_eq!(def.delegates.len(), 320);
        assert_eq!(def.topics.len(), 7);
        // Explicit: the phone asks, the station confirms (issue 10).
        assert_eq!(def.check_in, CheckInPolicy::Confirmed);
        for level in DelegateLevel::ALL {
            assert!(def.delegates.iter().any(|d| d.level == level), "{level:?} missing");
        }
        for v in &def.venues {
            assert!(def.delegates.iter().any(|d| d.venue == v.id), "{} has no delegates", v.id);
        }
    }
}
