//! Object storage, call capacity and node-failure views.

use super::Computed;
use leptos::prelude::*;

pub fn object_storage_view(c: &Computed) -> impl IntoView + use<> {
    let _ = c;
    view! {
        <section class="card" aria-labelledby="h-object-storage">
            <h2 id="h-object-storage">"Object storage"</h2>
        </section>
    }
}

pub fn calls_view(c: &Computed) -> impl IntoView + use<> {
    let _ = c;
    view! {
        <section class="card" aria-labelledby="h-calls">
            <h2 id="h-calls">"Calls"</h2>
        </section>
    }
}

pub fn failures_view(c: &Computed) -> impl IntoView + use<> {
    let _ = c;
    view! {
        <section class="card" aria-labelledby="h-failures">
            <h2 id="h-failures">"Losing a node"</h2>
        </section>
    }
}
