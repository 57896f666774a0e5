use serde_json::json;

use super::*;

/// A small deterministic generator, so that a failing randomized run replays from its seed.
struct Xorshift64Star {
    state: u64,
}

impl Xorshift64Star {
    fn new(seed: u64) -> Self {
        // A zero state would stay zero forever.
        Self {
            state: if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            },
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    fn between(&mut self, low: i64, high: i64) -> i64 {
        let span = u64::try_from(high - low + 1).expect("low <= high");
        low + i64::try_from(self.below(span)).expect("span fits in i64")
    }

    fn chance(&mut self, numerator: u64, denominator: u64) -> bool {
        self.below(denominator) < numerator
    }
}

const T0: i64 = 1_767_225_600_000;

fn at(millis: i64) -> UnixMillis {
    UnixMillis::from_millis(millis)
}

fn hlc(wall_millis: i64, counter: u32, node: u32) -> Hlc {
    Hlc {
        wall_millis,
        counter,
        node,
    }
}

// ---------------------------------------------------------------- HLC

#[test]
fn hlc_orders_by_wall_then_counter_then_node() {
    assert!(hlc(1, 0, 0) < hlc(2, 0, 0));
    assert!(hlc(1, 9, 9) < hlc(2, 0, 0));
    assert!(hlc(1, 1, 0) < hlc(1, 2, 0));
    assert!(hlc(1, 1, 9) < hlc(1, 2, 0));
    assert!(hlc(1, 1, 1) < hlc(1, 1, 2));
    assert!(Hlc::ZERO <= hlc(0, 0, 0));
}

#[test]
fn new_clock_starts_at_zero_for_its_node() {
    let clock = HlcClock::new(7);
    assert_eq!(clock.last(), hlc(0, 0, 7));
}

#[test]
fn tick_follows_the_wall_clock_and_counts_within_a_millisecond() {
    let mut clock = HlcClock::new(3);
    assert_eq!(clock.tick(at(T0)), Ok(hlc(T0, 0, 3)));
    assert_eq!(clock.tick(at(T0)), Ok(hlc(T0, 1, 3)));
    assert_eq!(clock.tick(at(T0 + 5)), Ok(hlc(T0 + 5, 0, 3)));
    assert_eq!(clock.last(), hlc(T0 + 5, 0, 3));
}

#[test]
fn tick_is_strictly_increasing_when_the_wall_clock_goes_backwards() {
    let mut clock = HlcClock::new(1);
    let first = clock.tick(at(T0)).expect("tick");
    // Someone sets the station's date back an hour, then a day.
    let second = clock.tick(at(T0 - 3_600_000)).expect("tick");
    let third = clock.tick(at(T0 - 86_400_000)).expect("tick");
    assert!(first < second && second < third);
    assert_eq!(second, hlc(T0, 1, 1));
    assert_eq!(third, hlc(T0, 2, 1));
    // When the wall clock catches up, the counter resets.
    assert_eq!(clock.tick(at(T0 + 1)), Ok(hlc(T0 + 1, 0, 1)));
}

#[test]
fn tick_refuses_a_counter_overflow_and_keeps_its_state() {
    let last = hlc(T0, u32::MAX, 2);
    let mut clock = HlcClock::resume(2, last);
    assert_eq!(clock.tick(at(T0)), Err(ClockError::CounterOverflow));
    assert_eq!(clock.last(), last);
    // A wall clock that moved on needs no counter.
    assert_eq!(clock.tick(at(T0 + 1)), Ok(hlc(T0 + 1, 0, 2)));
}

#[test]
fn observe_refuses_a_far_future_remote_and_leaves_state_unchanged() {
    let mut clock = HlcClock::new(1);
    let before = clock.tick(at(T0)).expect("tick");
    let remote = hlc(T0 + MAX_CLOCK_DRIFT_MILLIS + 1, 0, 2);
    assert_eq!(
        clock.observe(remote, at(T0)),
        Err(ClockError::TooFarAhead {
            ahead_millis: MAX_CLOCK_DRIFT_MILLIS + 1
        })
    );
    assert_eq!(clock.last(), before);
    assert_eq!(clock.tick(at(T0)), Ok(hlc(T0, 1, 1)));

    // Exactly at the bound is still accepted.
    let edge = hlc(T0 + MAX_CLOCK_DRIFT_MILLIS, 4, 2);
    assert_eq!(
        clock.observe(edge, at(T0)),
        Ok(hlc(T0 + MAX_CLOCK_DRIFT_MILLIS, 5, 1))
    );
}

#[test]
fn too_far_ahead_message_tells_the_user_what_to_fix() {
    let message = ClockError::TooFarAhead {
        ahead_millis: 400_000,
    }
    .to_string();
    assert_eq!(
        message,
        "a clock 400000 ms ahead of this one is refused; check the device's date and time"
    );
}

#[test]
fn observe_advances_past_the_remote() {
    // The remote is ahead of both this clock and its wall clock: adopt its wall, count past it.
    let mut clock = HlcClock::new(1);
    clock.tick(at(T0)).expect("tick");
    let remote = hlc(T0 + 1_000, 7, 2);
    let observed = clock.observe(remote, at(T0 + 10)).expect("observe");
    assert_eq!(observed, hlc(T0 + 1_000, 8, 1));
    assert!(observed > remote);

    // Same wall on both sides: the larger counter plus one.
    let mut clock = HlcClock::resume(1, hlc(T0, 3, 1));
    assert_eq!(
        clock.observe(hlc(T0, 9, 2), at(T0 - 50)),
        Ok(hlc(T0, 10, 1))
    );
    let mut clock = HlcClock::resume(1, hlc(T0, 12, 1));
    assert_eq!(
        clock.observe(hlc(T0, 9, 2), at(T0 - 50)),
        Ok(hlc(T0, 13, 1))
    );

    // This clock is ahead of the remote and the wall clock: its own counter plus one.
    let mut clock = HlcClock::resume(1, hlc(T0 + 500, 2, 1));
    assert_eq!(
        clock.observe(hlc(T0, 40, 2), at(T0)),
        Ok(hlc(T0 + 500, 3, 1))
    );

    // The wall clock is ahead of both: it alone orders the event.
    let mut clock = HlcClock::resume(1, hlc(T0, 2, 1));
    assert_eq!(
        clock.observe(hlc(T0 + 1, 40, 2), at(T0 + 2)),
        Ok(hlc(T0 + 2, 0, 1))
    );
}

#[test]
fn observe_refuses_a_counter_overflow_and_keeps_its_state() {
    let last = hlc(T0, 0, 1);
    let mut clock = HlcClock::resume(1, last);
    assert_eq!(
        clock.observe(hlc(T0, u32::MAX, 2), at(T0)),
        Err(ClockError::CounterOverflow)
    );
    assert_eq!(clock.last(), last);
}

#[test]
fn resume_continues_after_the_persisted_value() {
    let mut before_restart = HlcClock::new(4);
    before_restart.tick(at(T0)).expect("tick");
    let persisted = before_restart.tick(at(T0)).expect("tick");

    let mut resumed = HlcClock::resume(4, persisted);
    assert_eq!(resumed.last(), persisted);
    // The machine came back with its clock an hour behind.
    let next = resumed.tick(at(T0 - 3_600_000)).expect("tick");
    assert!(next > persisted);
    assert_eq!(next, hlc(T0, 2, 4));
}

/// Several nodes with skewed wall clocks that sometimes jump back exchange timestamps in a random
/// schedule, with messages delivered late and out of order. Every timestamp a node produces must be
/// above everything it produced before and above every remote it accepted.
#[test]
fn randomized_schedules_never_go_backwards() {
    const NODES: usize = 5;
    const STEPS: usize = 4_000;

    for seed in 1..=8_u64 {
        let mut random = Xorshift64Star::new(seed.wrapping_mul(0x1234_5678_9ABC_DEF1));
        let mut true_time = T0;
        // Nodes run up to four minutes fast or slow, so some pairs disagree by more than the
        // drift bound and refusals happen too.
        let skews: Vec<i64> = (0..NODES)
            .map(|_| random.between(-240_000, 240_000))
            .collect();
        // Extra offset from someone fiddling with the date; it only ever moves the clock back.
        let mut set_back = [0_i64; NODES];
        let mut clocks: Vec<HlcClock> = (0..NODES)
            .map(|node| HlcClock::new(u32::try_from(node).expect("few nodes")))
            .collect();
        let mut highest: Vec<Option<Hlc>> = vec![None; NODES];
        // Messages in flight: (to, timestamp).
        let mut in_flight: Vec<(usize, Hlc)> = Vec::new();
        let mut accepted = 0_u32;
        let mut refused = 0_u32;

        for step in 0..STEPS {
            true_time += random.between(0, 30);
            let node = usize::try_from(random.below(NODES as u64)).expect("small");
            if random.chance(1, 50) {
                set_back[node] -= random.between(1, 600_000);
            }
            if random.chance(1, 60) {
                // The user fixes the date again.
                set_back[node] = 0;
            }
            let now = at(true_time + skews[node] + set_back[node]);
            let before = clocks[node].last();

            let produced = match random.below(3) {
                0 => clocks[node].tick(now).expect("tick"),
                1 => {
                    let stamp = clocks[node].tick(now).expect("tick");
                    let to = usize::try_from(random.below(NODES as u64)).expect("small");
                    in_flight.push((to, stamp));
                    stamp
                }
                _ => {
                    if in_flight.is_empty() {
                        continue;
                    }
                    // Deliver any pending message, not the oldest: reordering.
                    let pick =
                        usize::try_from(random.below(in_flight.len() as u64)).expect("small");
                    let (to, remote) = in_flight.swap_remove(pick);
                    let receiver_before = clocks[to].last();
                    let receiver_now = at(true_time + skews[to] + set_back[to]);
                    match clocks[to].observe(remote, receiver_now) {
                        Ok(stamp) => {
                            accepted += 1;
                            assert!(
                                stamp > remote,
                                "seed {seed} step {step}: {stamp:?} not above remote {remote:?}"
                            );
                            check_increasing(&mut highest[to], stamp, seed, step);
                        }
                        Err(ClockError::TooFarAhead { ahead_millis }) => {
                            refused += 1;
                            assert!(ahead_millis > MAX_CLOCK_DRIFT_MILLIS);
                            assert_eq!(clocks[to].last(), receiver_before);
                        }
                        Err(other) => panic!("seed {seed} step {step}: {other}"),
                    }
                    continue;
                }
            };
            assert!(produced > before, "seed {seed} step {step}");
            assert_eq!(
                produced.node,
                u32::try_from(node).expect("few nodes"),
                "a node stamps with its own id"
            );
            check_increasing(&mut highest[node], produced, seed, step);
        }
        // Refusals depend on the skews drawn; only make sure the schedule exercised receiving.
        assert!(accepted > 100, "seed {seed}: only {accepted} observations");
        assert!(accepted + refused > 500, "seed {seed}");
    }
}

fn check_increasing(highest: &mut Option<Hlc>, produced: Hlc, seed: u64, step: usize) {
    if let Some(previous) = *highest {
        assert!(
            produced > previous,
            "seed {seed} step {step}: {produced:?} not above {previous:?}"
        );
    }
    *highest = Some(produced);
}

// ---------------------------------------------------------------- plan_push

fn device() -> Uuid {
    Uuid::from_u128(0xD0)
}

fn op(seq: u64) -> Op {
    Op {
        op_id: Uuid::from_u128(0x1000 + u128::from(seq)),
        device_id: device(),
        seq,
        hlc: hlc(T0 + i64::try_from(seq % 1_000_000).expect("small"), 0, 1),
        entity: Entity::Sale,
        entity_id: Uuid::from_u128(0x2000 + u128::from(seq)),
        action: Action::Create,
        payload: json!({ "receipt": format!("ACC-01-{seq}") }),
    }
}

fn push(seqs: &[u64]) -> PushRequest {
    PushRequest {
        protocol_version: PROTOCOL_VERSION,
        ops: seqs.iter().copied().map(op).collect(),
        unsynced_since: Some(T0),
        app_version: "0.1.0".to_owned(),
        sent_at: None,
    }
}

fn apply(index: usize) -> PushStep {
    PushStep::Apply { index }
}

fn have(index: usize) -> PushStep {
    PushStep::AlreadyHave { index }
}

#[test]
fn in_order_batch_is_applied() {
    let plan = plan_push(device(), 0, &push(&[1, 2, 3])).expect("valid");
    assert_eq!(
        plan,
        PushPlan {
            steps: vec![apply(0), apply(1), apply(2)],
            resend_from: None,
        }
    );

    let plan = plan_push(device(), 3, &push(&[4, 5])).expect("valid");
    assert_eq!(plan.steps, vec![apply(0), apply(1)]);
    assert_eq!(plan.resend_from, None);
}

#[test]
fn empty_batch_plans_nothing() {
    let plan = plan_push(device(), 9, &push(&[])).expect("valid");
    assert_eq!(
        plan,
        PushPlan {
            steps: vec![],
            resend_from: None
        }
    );
}

#[test]
fn retry_of_an_acknowledged_batch_is_all_duplicates() {
    // The server applied 1..=3 but the answer was lost; the station sends them again.
    let plan = plan_push(device(), 3, &push(&[1, 2, 3])).expect("valid");
    assert_eq!(plan.steps, vec![have(0), have(1), have(2)]);
    assert_eq!(plan.resend_from, None);

    // Partly acknowledged: the old ones are duplicates, the new ones applied.
    let plan = plan_push(device(), 2, &push(&[1, 2, 3, 4])).expect("valid");
    assert_eq!(plan.steps, vec![have(0), have(1), apply(2), apply(3)]);
    assert_eq!(plan.resend_from, None);
}

#[test]
fn reordered_batch_is_planned_in_seq_order() {
    let plan = plan_push(device(), 0, &push(&[3, 1, 2])).expect("valid");
    assert_eq!(plan.steps, vec![apply(1), apply(2), apply(0)]);
    assert_eq!(plan.resend_from, None);

    let plan = plan_push(device(), 2, &push(&[4, 2, 3, 1])).expect("valid");
    assert_eq!(plan.steps, vec![have(3), have(1), apply(2), apply(0)]);
}

#[test]
fn duplicate_seq_inside_a_batch_counts_once() {
    let plan = plan_push(device(), 0, &push(&[1, 2, 2, 3, 1])).expect("valid");
    assert_eq!(
        plan.steps,
        vec![apply(0), have(4), apply(1), have(2), apply(3)]
    );
    assert_eq!(plan.resend_from, None);
}

#[test]
fn gap_stops_planning_and_asks_to_resend() {
    let plan = plan_push(device(), 0, &push(&[1, 2, 4, 5])).expect("valid");
    assert_eq!(plan.steps, vec![apply(0), apply(1)]);
    assert_eq!(plan.resend_from, Some(3));

    // A batch that starts past the high-water mark applies nothing.
    let plan = plan_push(device(), 5, &push(&[7, 8])).expect("valid");
    assert_eq!(plan.steps, vec![]);
    assert_eq!(plan.resend_from, Some(6));

    // Duplicates below the gap are still answered; nothing beyond it appears.
    let plan = plan_push(device(), 2, &push(&[5, 1, 3, 2])).expect("valid");
    assert_eq!(plan.steps, vec![have(1), have(3), apply(2)]);
    assert_eq!(plan.resend_from, Some(4));
}

#[test]
fn planning_at_the_top_of_the_seq_range_does_not_overflow() {
    let plan = plan_push(device(), u64::MAX, &push(&[u64::MAX])).expect("valid");
    assert_eq!(plan.steps, vec![have(0)]);
    assert_eq!(plan.resend_from, None);
}

#[test]
fn op_naming_another_device_is_refused() {
    let mut request = push(&[1, 2]);
    let stranger = Uuid::from_u128(0xBAD);
    request.ops[1].device_id = stranger;
    assert_eq!(
        plan_push(device(), 0, &request),
        Err(PushError::WrongDevice {
            op_id: request.ops[1].op_id,
            found: stranger,
        })
    );
}

#[test]
fn other_protocol_version_is_refused() {
    let mut request = push(&[1]);
    request.protocol_version = PROTOCOL_VERSION + 1;
    let error = plan_push(device(), 0, &request).expect_err("refused");
    assert_eq!(error, PushError::UnsupportedVersion(PROTOCOL_VERSION + 1));
    assert_eq!(
        error.to_string(),
        "protocol version 2 is not spoken here (this server speaks 1); update the station"
    );
}

#[test]
fn too_many_ops_are_refused() {
    let seqs: Vec<u64> = (1..=u64::try_from(MAX_PUSH_OPS).expect("small")).collect();
    let plan = plan_push(device(), 0, &push(&seqs)).expect("the maximum is allowed");
    assert_eq!(plan.steps.len(), MAX_PUSH_OPS);

    let seqs: Vec<u64> = (1..=u64::try_from(MAX_PUSH_OPS + 1).expect("small")).collect();
    let error = plan_push(device(), 0, &push(&seqs)).expect_err("refused");
    assert_eq!(error, PushError::TooManyOps(MAX_PUSH_OPS + 1));
    assert_eq!(
        error.to_string(),
        "a push carries at most 500 ops; this one has 501"
    );
}

#[test]
fn seq_zero_is_refused() {
    let request = push(&[1, 0]);
    assert_eq!(
        plan_push(device(), 0, &request),
        Err(PushError::ZeroSeq(request.ops[1].op_id))
    );
}

// ---------------------------------------------------------------- merge_field

fn versioned(value: &str, at: Hlc) -> Versioned<String> {
    Versioned {
        value: value.to_owned(),
        hlc: at,
    }
}

#[test]
fn newer_write_wins() {
    let current = versioned("Milo 400g", hlc(T0, 0, 1));
    let incoming = versioned("Milo Tin 400g", hlc(T0 + 1, 0, 2));
    let merged = merge_field(&current, &incoming);
    assert_eq!(merged.winner, incoming);
    assert!(merged.incoming_won);
    assert!(merged.conflict);
}

#[test]
fn older_write_loses() {
    let current = versioned("12.50", hlc(T0, 3, 1));
    let incoming = versioned("11.00", hlc(T0, 2, 9));
    let merged = merge_field(&current, &incoming);
    assert_eq!(merged.winner, current);
    assert!(!merged.incoming_won);
    assert!(merged.conflict);
}

#[test]
fn node_breaks_a_tie_of_wall_and_counter() {
    let current = versioned("a", hlc(T0, 1, 1));
    let incoming = versioned("b", hlc(T0, 1, 2));
    assert!(merge_field(&current, &incoming).incoming_won);
    assert!(!merge_field(&incoming, &current).incoming_won);
}

#[test]
fn conflict_flag_rules() {
    // Same value: no conflict, whoever wins.
    let merged = merge_field(
        &versioned("x", hlc(T0, 0, 1)),
        &versioned("x", hlc(T0, 1, 2)),
    );
    assert!(!merged.conflict);
    assert!(merged.incoming_won);

    // Overwriting an initial value is not a concurrent edit.
    let merged = merge_field(&versioned("", Hlc::ZERO), &versioned("x", hlc(T0, 0, 2)));
    assert!(!merged.conflict);
    assert!(merged.incoming_won);
    let merged = merge_field(&versioned("x", hlc(T0, 0, 2)), &versioned("", Hlc::ZERO));
    assert!(!merged.conflict);
    assert!(!merged.incoming_won);

    // Different values, both written: a conflict to log.
    let merged = merge_field(
        &versioned("x", hlc(T0, 0, 1)),
        &versioned("y", hlc(T0, 0, 2)),
    );
    assert!(merged.conflict);

    // The same write delivered again changes nothing.
    let write = versioned("x", hlc(T0, 0, 1));
    let merged = merge_field(&write, &write);
    assert_eq!(merged.winner, write);
    assert!(!merged.conflict);
    assert!(!merged.incoming_won);
}

#[test]
fn merge_is_commutative_over_random_pairs() {
    let mut random = Xorshift64Star::new(42);
    for _ in 0..5_000 {
        // Small ranges so that equal walls and counters are common and the node decides.
        let a = Versioned {
            value: random.below(3),
            hlc: hlc(random.between(0, 3), (random.below(3)) as u32, 1),
        };
        let b = Versioned {
            value: random.below(3),
            hlc: hlc(random.between(0, 3), (random.below(3)) as u32, 2),
        };
        let a_into_b = merge_field(&b, &a);
        let b_into_a = merge_field(&a, &b);
        assert_eq!(a_into_b.winner, b_into_a.winner, "{a:?} {b:?}");
        assert_eq!(a_into_b.conflict, b_into_a.conflict, "{a:?} {b:?}");
        assert_ne!(a_into_b.incoming_won, b_into_a.incoming_won, "{a:?} {b:?}");
        let latest = if a.hlc > b.hlc { &a } else { &b };
        assert_eq!(&a_into_b.winner, latest);
        // Merging either write into the winner again changes nothing (idempotent).
        assert_eq!(merge_field(&a_into_b.winner, &a).winner, *latest);
        assert_eq!(merge_field(&a_into_b.winner, &b).winner, *latest);
    }
}

// ---------------------------------------------------------------- wire format

#[test]
fn push_request_round_trips() {
    let mut request = push(&[1, 2]);
    request.ops[1].entity = Entity::StockMovement;
    request.ops[1].action = Action::Update;
    let text = serde_json::to_string(&request).expect("serialize");
    assert!(text.contains(r#""entity":"stock_movement""#), "{text}");
    assert!(text.contains(r#""action":"update""#), "{text}");
    assert!(text.contains(r#""hlc":{"wall_millis":"#), "{text}");
    let back: PushRequest = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, request);
}

#[test]
fn push_response_round_trips() {
    let response = PushResponse {
        protocol_version: PROTOCOL_VERSION,
        results: vec![
            OpResult {
                seq: 1,
                op_id: Uuid::from_u128(1),
                status: OpStatus::Applied,
                code: None,
                message: None,
            },
            OpResult {
                seq: 2,
                op_id: Uuid::from_u128(2),
                status: OpStatus::Duplicate,
                code: None,
                message: None,
            },
            OpResult {
                seq: 3,
                op_id: Uuid::from_u128(3),
                status: OpStatus::Rejected,
                code: Some("insufficient_stock".to_owned()),
                message: Some("only 2 left".to_owned()),
            },
        ],
        acknowledged_seq: 3,
        resend_from: Some(4),
        server_hlc: hlc(T0, 2, 0),
    };
    let value = serde_json::to_value(&response).expect("serialize");
    assert_eq!(value["results"][0]["status"], "applied");
    assert_eq!(value["results"][1]["status"], "duplicate");
    assert_eq!(value["results"][2]["status"], "rejected");
    assert_eq!(value["resend_from"], 4);
    let back: PushResponse = serde_json::from_value(value).expect("deserialize");
    assert_eq!(back, response);
}

#[test]
fn pull_round_trips() {
    let request = PullRequest {
        protocol_version: PROTOCOL_VERSION,
        cursor: 10,
        limit: 200,
    };
    let text = serde_json::to_string(&request).expect("serialize");
    assert_eq!(
        serde_json::from_str::<PullRequest>(&text).expect("deserialize"),
        request
    );

    let response = PullResponse {
        protocol_version: PROTOCOL_VERSION,
        changes: vec![Change {
            seq: 11,
            entity: "product".to_owned(),
            entity_id: Uuid::from_u128(0x77),
            payload: json!({ "name": "Milo 400g", "price_minor": 4_500 }),
        }],
        next_cursor: 11,
        has_more: false,
        server_hlc: hlc(T0, 0, 0),
    };
    let text = serde_json::to_string(&response).expect("serialize");
    let back: PullResponse = serde_json::from_str(&text).expect("deserialize");
    assert_eq!(back, response);
}

#[test]
fn enum_names_are_snake_case() {
    let names = |value: serde_json::Value| value.as_str().map(str::to_owned);
    let entities = [
        Entity::Sale,
        Entity::Refund,
        Entity::StockMovement,
        Entity::Shift,
        Entity::Customer,
        Entity::Product,
    ]
    .map(|entity| names(serde_json::to_value(entity).expect("serialize")));
    assert_eq!(
        entities,
        [
            "sale",
            "refund",
            "stock_movement",
            "shift",
            "customer",
            "product"
        ]
        .map(|name| Some(name.to_owned()))
    );
    assert_eq!(
        serde_json::to_value(Action::Create).expect("serialize"),
        "create"
    );
    assert_eq!(
        serde_json::to_value(OpStatus::Applied).expect("serialize"),
        "applied"
    );
    assert_eq!(
        serde_json::from_str::<Entity>(r#""stock_movement""#).expect("deserialize"),
        Entity::StockMovement
    );
    assert!(serde_json::from_str::<Entity>(r#""StockMovement""#).is_err());
    for entity in [
        Entity::Sale,
        Entity::Refund,
        Entity::StockMovement,
        Entity::Shift,
        Entity::Customer,
        Entity::Product,
        Entity::Transfer,
    ] {
        assert_eq!(
            serde_json::to_value(entity).expect("serialize"),
            entity.as_str(),
            "as_str is the wire name"
        );
    }
}

fn entry(occurred_at: i64, id: u128, is_count: bool, quantity_milli: i64) -> LedgerEntry {
    LedgerEntry {
        occurred_at,
        id: Uuid::from_u128(id),
        is_count,
        quantity_milli,
    }
}

#[test]
fn on_hand_without_a_count_is_the_sum() {
    let ledger = [entry(1, 1, false, 5_000), entry(2, 2, false, -2_000)];
    assert_eq!(on_hand_milli(&ledger), 3_000);
    assert_eq!(on_hand_milli(&[]), 0);
}

#[test]
fn on_hand_starts_from_the_latest_count() {
    let ledger = [
        entry(1, 1, false, 5_000),
        entry(2, 2, true, 10_000),
        entry(3, 3, false, -1_000),
        entry(4, 4, true, 7_000),
        entry(5, 5, false, -500),
        // Same instant as the last count, ordered before it by id: the count saw it.
        entry(4, 0, false, -9_000),
    ];
    assert_eq!(on_hand_milli(&ledger), 6_500);
}

#[test]
fn on_hand_does_not_depend_on_arrival_order() {
    let mut random = Xorshift64Star::new(41);
    for _ in 0..200 {
        let mut ledger: Vec<LedgerEntry> = (0..12)
            .map(|index| {
                entry(
                    random.between(0, 6),
                    u128::from(index as u8),
                    random.chance(1, 4),
                    random.between(-3_000, 3_000),
                )
            })
            .collect();
        let expected = on_hand_milli(&ledger);
        for _ in 0..5 {
            let length = ledger.len();
            for index in (1..length).rev() {
                let other = random.below(index as u64 + 1) as usize;
                ledger.swap(index, other);
            }
            assert_eq!(on_hand_milli(&ledger), expected);
        }
    }
}

#[test]
fn clock_correction_ignores_network_delay_and_fixes_real_skew() {
    let now = at(1_000_000_000);
    assert_eq!(clock_correction(None, now), 0);
    assert_eq!(clock_correction(Some(1_000_000_000 + 2_000), now), 0);
    let day = 86_400_000;
    assert_eq!(clock_correction(Some(1_000_000_000 + day), now), day);
    assert_eq!(clock_correction(Some(1_000_000_000 - day), now), -day);
}
