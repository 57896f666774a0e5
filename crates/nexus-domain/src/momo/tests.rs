use super::*;
use crate::money::Currency;

/// 2026-01-10T14:00:00Z.
const JAN_10_14H: i64 = 1_768_053_600_000;
const MINUTE: i64 = 60_000;

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

#[test]
fn times_are_read_in_each_format_at_the_shops_offset() {
    let at = |format: TimeFormat, text: &str| format.read(text, 0).map(UnixMillis::as_millis);
    assert_eq!(
        at(TimeFormat::YearMonthDay, "2026-01-10 14:00"),
        Some(JAN_10_14H)
    );
    assert_eq!(
        at(TimeFormat::YearMonthDay, "2026-01-10T14:00:05Z"),
        Some(JAN_10_14H + 5000)
    );
    assert_eq!(
        at(TimeFormat::YearMonthDay, "2026/01/10 14:00:05.250"),
        Some(JAN_10_14H + 5000)
    );
    assert_eq!(
        at(TimeFormat::DayMonthYear, "10/01/2026 14:00:00"),
        Some(JAN_10_14H)
    );
    assert_eq!(
        at(TimeFormat::MonthDayYear, "01/10/2026 14:00"),
        Some(JAN_10_14H)
    );
    assert_eq!(
        at(TimeFormat::DayMonthNameYear, "10-Jan-2026 14:00"),
        Some(JAN_10_14H)
    );
    assert_eq!(
        at(TimeFormat::DayMonthNameYear, "10-JANUARY-2026 14:00"),
        Some(JAN_10_14H)
    );
    assert_eq!(
        at(TimeFormat::DayMonthNameYear, "10-OCT-2026 14:00").map(|ms| ms > JAN_10_14H),
        Some(true),
        "the T of OCT is no date-time separator"
    );
    // Lagos is an hour ahead of UTC: 15:00 there is 14:00 UTC.
    assert_eq!(
        TimeFormat::YearMonthDay
            .read("2026-01-10 15:00", 60)
            .map(UnixMillis::as_millis),
        Some(JAN_10_14H)
    );
    for impossible in [
        "2026-13-01 10:00",
        "2026-04-31 10:00",
        "2026-02-29 10:00",
        "2026-01-10 24:00",
        "2026-01-10 10:60",
        "yesterday",
        "2026-01-10 10",
    ] {
        assert_eq!(
            TimeFormat::YearMonthDay.read(impossible, 0),
            None,
            "{impossible}"
        );
    }
    assert!(
        TimeFormat::YearMonthDay
            .read("2024-02-29 10:00", 0)
            .is_some()
    );
    assert_eq!(TimeFormat::DayMonthYear.read("2026-01-10 14:00", 0), None);
    for format in TimeFormat::ALL {
        assert_eq!(TimeFormat::parse(format.as_str()), Some(format));
    }
}

#[test]
fn a_portals_header_is_guessed_and_a_layout_placed_on_it() {
    let names = header(&["Transaction ID", "Date", "From", "Amount", "Status"]);
    let guessed =
        Mapping::guess(&names, &["10/01/2026 14:03", "31/01/2026 09:00"]).expect("a guess");
    assert_eq!(
        guessed,
        Mapping {
            transaction_id: "Transaction ID".to_owned(),
            time: "Date".to_owned(),
            amount: "Amount".to_owned(),
            payer: Some("From".to_owned()),
            time_format: TimeFormat::DayMonthYear,
        }
    );
    assert_eq!(Mapping::guess(&header(&["Name", "Notes"]), &[]), None);

    let columns = guessed.locate(&header(&[" amount", "DATE", "transaction id", "from"]));
    assert!(columns.is_ok(), "headers match trimmed and in any case");
    let moved = header(&["Txn Ref", "Date", "Amount"]);
    match guessed.locate(&moved) {
        Err(StatementError::ColumnsMissing {
            found,
            expected,
            missing,
        }) => {
            assert_eq!(found, moved);
            assert_eq!(expected, ["Transaction ID", "Date", "Amount", "From"]);
            assert_eq!(missing, ["Transaction ID", "From"]);
        }
        other => panic!("expected missing columns, got {other:?}"),
    }
}

#[test]
fn a_layout_names_each_column_once() {
    let mut mapping = Mapping {
        transaction_id: "Id".to_owned(),
        time: "Date".to_owned(),
        amount: " id ".to_owned(),
        payer: None,
        time_format: TimeFormat::YearMonthDay,
    };
    assert!(matches!(mapping.check(), Err(StatementError::Mapping(_))));
    mapping.amount = String::new();
    assert!(matches!(mapping.check(), Err(StatementError::Mapping(_))));
    mapping.amount = "Amount".to_owned();
    assert_eq!(mapping.check(), Ok(()));
}

#[test]
fn rows_are_payments_received_and_bad_cells_name_their_line() {
    let mapping = Mapping {
        transaction_id: "Id".to_owned(),
        time: "Date".to_owned(),
        amount: "Amount".to_owned(),
        payer: Some("From".to_owned()),
        time_format: TimeFormat::YearMonthDay,
    };
    let columns = mapping
        .locate(&header(&["Id", "Date", "Amount", "From"]))
        .expect("columns");
    let row = |cells: &[&str]| columns.row(&header(cells), 7, Currency::Ghs, 0);
    let paid = row(&["MP1", "2026-01-10 14:00", "GHS 1,200.50", " 0244123456 "])
        .expect("read")
        .expect("a payment");
    assert_eq!(paid.amount_minor, 120_050);
    assert_eq!(paid.at.as_millis(), JAN_10_14H);
    assert_eq!(paid.payer.as_deref(), Some("0244123456"));
    for (text, minor) in [("15", 1500), ("GH₵15.00", 1500), ("15.00 GHS", 1500)] {
        let read = row(&["MP1", "2026-01-10 14:00", text, ""]).expect("read");
        assert_eq!(read.map(|row| row.amount_minor), Some(minor), "{text}");
    }
    assert_eq!(row(&["WD1", "2026-01-10 14:00", "-5.00", ""]), Ok(None));
    assert_eq!(row(&["", " ", "", ""]), Ok(None));
    match row(&["MP1", "2026-01-10 14:00", "abc", ""]) {
        Err(StatementError::Row { line, problem }) => {
            assert_eq!(line, 7);
            assert!(problem.contains("abc"), "{problem}");
        }
        other => panic!("expected a row error, got {other:?}"),
    }
    assert!(matches!(
        row(&["MP1", "10/01/2026", "5.00", ""]),
        Err(StatementError::Row { line: 7, .. })
    ));
    assert!(matches!(
        row(&["", "2026-01-10 14:00", "5.00", ""]),
        Err(StatementError::Row { .. })
    ));
}

fn payment(id: &str, minutes: i64, amount: i64) -> StatementRow {
    StatementRow {
        transaction_id: id.to_owned(),
        at: UnixMillis::from_millis(JAN_10_14H + minutes * MINUTE),
        amount_minor: amount,
        payer: None,
    }
}

fn claim(key: u32, reference: &str, minutes: i64, amount: i64) -> Claim<u32> {
    Claim {
        key,
        reference: reference.to_owned(),
        amount_minor: amount,
        at: UnixMillis::from_millis(JAN_10_14H + minutes * MINUTE),
    }
}

#[test]
fn each_claim_gets_the_verdict_the_statement_supports() {
    let rows = [
        payment("MP1", 0, 1200),
        payment("MP2", 10, 1000),
        payment("MP5", 20, 1200),
        payment("MP9", 600, 500),
    ];
    let window = MATCH_WINDOW_MILLIS;
    let claims = [
        claim(1, "MP1", 3, 1200),
        claim(2, "mp2 ", 12, 1200),
        claim(3, "FAKE", 30, 1200),
        claim(4, "MP5", 20, 1200),
        claim(5, " mp5", 25, 1200),
        // The id is real, but of a payment ten hours later: not this sale's.
        claim(6, "MP9", 0, 500),
        // A day after anything the statement covers.
        claim(7, "MP7", 24 * 60 + 600, 1200),
        // Exactly at the window's edge.
        claim(8, "MP1X", 0, 1),
    ];
    let edge_rows = [payment("MP1X", window / MINUTE, 1)];
    let verdicts = reconcile(&claims, &rows, window);
    let state = |key: u32| {
        verdicts
            .iter()
            .find(|verdict| verdict.key == key)
            .map(|verdict| verdict.state)
    };
    assert_eq!(state(1), Some(MatchState::Matched));
    assert_eq!(state(2), Some(MatchState::AmountDiffers));
    assert_eq!(
        verdicts
            .iter()
            .find(|verdict| verdict.key == 2)
            .and_then(|verdict| verdict.row)
            .map(|row| row.amount_minor),
        Some(1000)
    );
    assert_eq!(state(3), Some(MatchState::NotFound));
    assert_eq!(state(4), Some(MatchState::ClaimedTwice));
    assert_eq!(state(5), Some(MatchState::ClaimedTwice));
    assert_eq!(state(6), Some(MatchState::NotFound));
    assert_eq!(state(7), None, "left for a later statement");
    let keys: Vec<u32> = verdicts.iter().map(|verdict| verdict.key).collect();
    assert_eq!(keys, [1, 2, 3, 4, 5, 6, 8], "in the claims' order");

    let at_edge = reconcile(&claims[7..], &edge_rows, window);
    assert_eq!(at_edge[0].state, MatchState::Matched);
    let past_edge = reconcile(&claims[7..], &edge_rows, window - 1);
    assert_eq!(past_edge[0].state, MatchState::NotFound);
    // With no payments at all, only a reused id can be judged.
    let none = reconcile(&claims, &[], window);
    assert_eq!(
        none.iter().map(|verdict| verdict.key).collect::<Vec<_>>(),
        [4, 5]
    );
}

#[test]
fn networks_and_states_read_back_what_they_write() {
    for network in Network::ALL {
        assert_eq!(Network::parse(network.as_str()), Some(network));
        assert!(crate::tender::MOMO_NETWORKS.contains(&network.as_str()));
    }
    assert_eq!(Network::parse(" MTN "), Some(Network::Mtn));
    assert_eq!(Network::parse("vodafone"), None);
    for state in MatchState::ALL {
        assert_eq!(MatchState::parse(state.as_str()), Some(state));
    }
}
