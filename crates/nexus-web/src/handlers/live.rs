//! Live updates: the stream of server-sent events the pages listen to, and the fragments
//! they fetch when one arrives.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use nexus_server::Stopping;
use nexus_server::events::Topic;
use nexus_server::state::AppState;
use tokio::sync::broadcast::error::RecvError;

use super::context::Viewer;

/// What the pages show and so listen for; staff and catalogue changes reach them through
/// the pages' own reloads.
const PAGE_TOPICS: [Topic; 3] = [Topic::Sales, Topic::Stock, Topic::Tills];

/// `GET /events`: `event: sales|stock|tills` with `data: {}` whenever that changed in the
/// person's organisation, and a comment every 25 s so that proxies keep the stream open.
/// Ends when the server shuts down.
pub(crate) async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    stopping: Option<Extension<Stopping>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let tenant = viewer.auth.tenant;
    let receiver = state.events.subscribe();
    let stopping = stopping.map(|Extension(stopping)| stopping);
    let stream = futures_util::stream::unfold(
        (receiver, Box::pin(wait_for(stopping)), Vec::<Topic>::new()),
        move |(mut receiver, mut stopped, mut pending)| async move {
            loop {
                if let Some(topic) = pending.pop() {
                    let event = Event::default().event(topic.as_str()).data("{}");
                    return Some((Ok(event), (receiver, stopped, pending)));
                }
                tokio::select! {
                    () = &mut stopped => return None,
                    received = receiver.recv() => match received {
                        Ok(event) if event.tenant == tenant && PAGE_TOPICS.contains(&event.topic) => {
                            pending.push(event.topic);
                        }
                        Ok(_) => {}
                        // Fell behind: some events were missed, so every page refreshes.
                        Err(RecvError::Lagged(_)) => pending.extend(PAGE_TOPICS),
                        Err(RecvError::Closed) => return None,
                    },
                }
            }
        },
    );
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(25))
            .text("ping"),
    )
}

async fn wait_for(stopping: Option<Stopping>) {
    match stopping {
        Some(stopping) => stopping.wait().await,
        None => std::future::pending().await,
    }
}

/// A fragment alone (a live region, an import's progress), never cached.
pub(crate) fn fragment<T: Template>(content: T) -> Response {
    let mut response = match content.render() {
        Ok(html) => (StatusCode::OK, html).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong showing this part of the page.",
        )
            .into_response(),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
