//! The item report: per product or per category over a range of local days, what sold, the
//! revenue net of tax, what it cost the shop and the gross profit. Costs are those each line
//! was sold at, so a later change of cost does not rewrite past profit. Refunds and voids are
//! netted.

use std::collections::{BTreeMap, HashMap};

use nexus_domain::{BranchId, CategoryId, Currency, ProductId, Quantity};
use serde::Serialize;

use super::catalogue::spreadsheet_safe;
use super::reports::{ReportRange, resolve};
use crate::auth::Authenticated;
use crate::calendar;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What the report adds up by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemGroup {
    Product,
    Category,
}

impl ItemGroup {
    pub fn parse(text: Option<&str>) -> ApiResult<Self> {
        match text.unwrap_or("product") {
            "product" => Ok(Self::Product),
            "category" => Ok(Self::Category),
            other => Err(ApiError::validation(format!(
                "group {other:?}: expected product or category"
            ))
            .with_field("group")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Product => "product",
            Self::Category => "category",
        }
    }
}

/// The sums of one row, or of the whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ItemFigures {
    pub quantity: Quantity,
    /// Revenue net of tax.
    pub net_minor: i64,
    /// What the goods sold cost the shop, at the costs they were sold at.
    pub cost_minor: i64,
    /// Net revenue less cost.
    pub gross_profit_minor: i64,
    /// Gross profit over net revenue, in basis points (2500 = 25 %); absent with no revenue.
    pub margin_basis_points: Option<i64>,
    /// What sold while the product had no cost set: counted at cost 0, so its profit is
    /// overstated until a cost is set.
    pub uncosted_quantity: Quantity,
}

impl ItemFigures {
    fn add(&mut self, item: &nexus_store::ItemTotal) {
        self.quantity = Quantity::from_milli(self.quantity.milli() + item.quantity.milli());
        self.net_minor += item.net_minor;
        self.cost_minor += item.cost_minor;
        self.uncosted_quantity =
            Quantity::from_milli(self.uncosted_quantity.milli() + item.uncosted.milli());
    }

    fn finish(mut self) -> Self {
        self.gross_profit_minor = self.net_minor - self.cost_minor;
        self.margin_basis_points = (self.net_minor != 0).then(|| {
            nexus_domain::tax::proportional_share(10_000, self.gross_profit_minor, self.net_minor)
        });
        self
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ItemRow {
    /// For group=product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<ProductId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The product's or the category's name; "Uncategorised" for products in none.
    pub name: String,
    /// The product's category (group=product), or the category of the row (group=category);
    /// absent for products in none.
    pub category_id: Option<CategoryId>,
    /// The category's name; absent for products in none.
    pub category: Option<String>,
    #[serde(flatten)]
    pub figures: ItemFigures,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemReport {
    pub currency: Currency,
    pub time_zone: String,
    pub group: ItemGroup,
    pub from: String,
    pub to: String,
    pub branch_id: Option<BranchId>,
    /// Highest net revenue first.
    pub rows: Vec<ItemRow>,
    pub totals: ItemFigures,
}

pub const UNCATEGORISED: &str = "Uncategorised";

/// The item report of `range` (this month when no dates are given), by `group`.
pub async fn item_report(
    state: &AppState,
    auth: &Authenticated,
    range: &ReportRange,
    group: ItemGroup,
) -> ApiResult<ItemReport> {
    let resolved = resolve(state, auth, range).await?;
    let items = state
        .store
        .item_totals(
            auth.tenant,
            resolved.from,
            resolved.to,
            resolved.branches.as_deref(),
        )
        .await?;
    let ids: Vec<ProductId> = items.iter().map(|item| item.product_id).collect();
    let products: HashMap<ProductId, nexus_store::Product> = state
        .store
        .products_by_ids(auth.tenant, &ids)
        .await?
        .into_iter()
        .map(|product| (product.id, product))
        .collect();
    let categories: HashMap<CategoryId, String> = state
        .store
        .list_categories(auth.tenant)
        .await?
        .into_iter()
        .map(|category| (category.id, category.name))
        .collect();
    let category_of = |product: ProductId| {
        products
            .get(&product)
            .and_then(|product| product.category_id)
    };
    let mut totals = ItemFigures::default();
    for item in &items {
        totals.add(item);
    }
    let mut rows: Vec<ItemRow> = match group {
        ItemGroup::Product => items
            .iter()
            .map(|item| {
                let product = products.get(&item.product_id);
                let category_id = category_of(item.product_id);
                let mut figures = ItemFigures::default();
                figures.add(item);
                ItemRow {
                    product_id: Some(item.product_id),
                    sku: product.map(|product| product.sku.clone()),
                    name: product
                        .map(|product| product.name.clone())
                        .unwrap_or_default(),
                    category_id,
                    category: category_id.and_then(|id| categories.get(&id).cloned()),
                    figures: figures.finish(),
                }
            })
            .collect(),
        ItemGroup::Category => {
            let mut by_category: BTreeMap<Option<CategoryId>, ItemFigures> = BTreeMap::new();
            for item in &items {
                by_category
                    .entry(category_of(item.product_id))
                    .or_default()
                    .add(item);
            }
            by_category
                .into_iter()
                .map(|(category_id, figures)| {
                    let category = category_id.and_then(|id| categories.get(&id).cloned());
                    ItemRow {
                        product_id: None,
                        sku: None,
                        name: category.clone().unwrap_or_else(|| UNCATEGORISED.to_owned()),
                        category_id,
                        category,
                        figures: figures.finish(),
                    }
                })
                .collect()
        }
    };
    rows.sort_by(|left, right| {
        right
            .figures
            .net_minor
            .cmp(&left.figures.net_minor)
            .then_with(|| left.name.cmp(&right.name))
    });
    Ok(ItemReport {
        currency: resolved.settings.currency,
        time_zone: resolved.settings.time_zone,
        group,
        from: calendar::format_day(resolved.from),
        to: calendar::format_day(resolved.to),
        branch_id: range.branch.map(BranchId::from_uuid),
        rows,
        totals: totals.finish(),
    })
}

/// A margin for a person: "25.00 %", or "" with no revenue.
pub fn margin_text(margin_basis_points: Option<i64>) -> String {
    margin_basis_points
        .map(|points| {
            let sign = if points < 0 { "-" } else { "" };
            let points = points.unsigned_abs();
            format!("{sign}{}.{:02} %", points / 100, points % 100)
        })
        .unwrap_or_default()
}

/// The report as CSV, amounts in major units; a totals row last.
pub fn item_csv(report: &ItemReport) -> ApiResult<Vec<u8>> {
    let money = |minor: i64| report.currency.format_minor(minor);
    let failed = |error: csv::Error| ApiError::internal(format!("writing CSV: {error}"));
    let mut writer = csv::Writer::from_writer(Vec::new());
    let figures_header = [
        "quantity",
        "net",
        "cost",
        "gross_profit",
        "margin",
        "quantity_without_cost",
    ];
    let figures = |figures: &ItemFigures| {
        [
            figures.quantity.to_string(),
            money(figures.net_minor),
            money(figures.cost_minor),
            money(figures.gross_profit_minor),
            margin_text(figures.margin_basis_points),
            figures.uncosted_quantity.to_string(),
        ]
    };
    match report.group {
        ItemGroup::Product => {
            let mut header = vec!["sku", "name", "category"];
            header.extend(figures_header);
            writer.write_record(&header).map_err(failed)?;
            for row in &report.rows {
                let mut record = vec![
                    spreadsheet_safe(row.sku.as_deref().unwrap_or("")),
                    spreadsheet_safe(&row.name),
                    spreadsheet_safe(row.category.as_deref().unwrap_or("")),
                ];
                record.extend(figures(&row.figures));
                writer.write_record(&record).map_err(failed)?;
            }
            let mut total = vec!["".to_owned(), "Total".to_owned(), "".to_owned()];
            total.extend(figures(&report.totals));
            writer.write_record(&total).map_err(failed)?;
        }
        ItemGroup::Category => {
            let mut header = vec!["category"];
            header.extend(figures_header);
            writer.write_record(&header).map_err(failed)?;
            for row in &report.rows {
                let mut record = vec![spreadsheet_safe(&row.name)];
                record.extend(figures(&row.figures));
                writer.write_record(&record).map_err(failed)?;
            }
            let mut total = vec!["Total".to_owned()];
            total.extend(figures(&report.totals));
            writer.write_record(&total).map_err(failed)?;
        }
    }
    writer
        .into_inner()
        .map_err(|error| ApiError::internal(format!("writing CSV: {error}")))
}
