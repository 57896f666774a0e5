//! The cart being rung up: lines, role-limited discounts, and its price under the tenant's tax
//! rules.

use nexus_domain::{Currency, LineInput, PriceList, Quantity, Role};
use serde::{Deserialize, Serialize};

use crate::catalogue::TillProduct;
use crate::till::customers::Customer;
use crate::till::{TillSettings, invalid};
use crate::{Station, StationResult};

/// A basket being rung up. It lives in memory (or parked in the database) until checkout.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub lines: Vec<CartLine>,
    /// A discount on the whole basket, in minor units, after the line discounts.
    pub discount_minor: i64,
    pub customer: Option<Customer>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: TillProduct,
    pub quantity: Quantity,
    pub discount_minor: i64,
}

impl CartLine {
    pub(crate) fn gross_minor(&self, list: PriceList) -> StationResult<i64> {
        nexus_domain::quantity::line_amount(self.product.price_on(list), self.quantity)
            .ok_or_else(|| invalid("that line's amount is too large"))
    }
}

impl Cart {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The list the cart is priced on: its customer's, retail for a walk-in.
    pub fn price_list(&self) -> PriceList {
        self.customer
            .as_ref()
            .map_or(PriceList::Retail, |customer| customer.price_list)
    }

    /// What one of `line` costs on the cart's list.
    pub fn unit_price(&self, line: &CartLine) -> i64 {
        line.product.price_on(self.price_list())
    }

    /// Adds `quantity` of `product`: to its line when it is already in the cart (a second scan
    /// of the same barcode means two of it), else as a new line.
    pub fn add(&mut self, product: TillProduct, quantity: Quantity) -> StationResult<()> {
        if !quantity.is_positive() {
            return Err(invalid("the quantity must be more than zero"));
        }
        if let Some(line) = self
            .lines
            .iter_mut()
            // A carton and a piece of one product are two lines.
            .find(|line| line.product.id == product.id && line.product.pack == product.pack)
        {
            line.quantity = line
                .quantity
                .checked_add(quantity)
                .ok_or_else(|| invalid("that quantity is too large"))?;
            return Ok(());
        }
        self.lines.push(CartLine {
            product,
            quantity,
            discount_minor: 0,
        });
        Ok(())
    }

    fn line_mut(&mut self, index: usize) -> StationResult<&mut CartLine> {
        let count = self.lines.len();
        self.lines.get_mut(index).ok_or_else(|| {
            invalid(format!(
                "there is no line {} (the cart has {count})",
                index + 1
            ))
        })
    }

    /// Sets a line's quantity; a line discount larger than the new amount is taken back.
    pub fn set_quantity(&mut self, index: usize, quantity: Quantity) -> StationResult<()> {
        if !quantity.is_positive() {
            return Err(invalid(
                "the quantity must be more than zero; remove the line instead",
            ));
        }
        let list = self.price_list();
        let line = self.line_mut(index)?;
        line.quantity = quantity;
        let gross = line.gross_minor(list)?;
        line.discount_minor = line.discount_minor.min(gross);
        Ok(())
    }

    pub fn remove(&mut self, index: usize) -> StationResult<CartLine> {
        self.line_mut(index)?;
        Ok(self.lines.remove(index))
    }

    /// A discount on one line, within what `role` may give (see `Role::max_discount_minor`).
    pub fn set_line_discount(
        &mut self,
        role: Role,
        currency: Currency,
        index: usize,
        discount_minor: i64,
    ) -> StationResult<()> {
        let list = self.price_list();
        let line = self.line_mut(index)?;
        let gross = line.gross_minor(list)?;
        check_discount(role, currency, discount_minor, gross)?;
        line.discount_minor = discount_minor;
        Ok(())
    }

    /// A discount on the whole basket, within what `role` may give on what is left after the
    /// line discounts.
    pub fn set_discount(
        &mut self,
        role: Role,
        currency: Currency,
        discount_minor: i64,
    ) -> StationResult<()> {
        let mut after_lines = 0_i64;
        for line in &self.lines {
            after_lines += line.gross_minor(self.price_list())? - line.discount_minor;
        }
        check_discount(role, currency, discount_minor, after_lines)?;
        self.discount_minor = discount_minor;
        Ok(())
    }
}

/// A cart priced by the tenant's tax rules, line by line, as the receipt will show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Priced {
    pub lines: Vec<nexus_domain::LineTax>,
    pub totals: nexus_domain::SaleTotals,
}

impl Station {
    /// Adds the product with this barcode or SKU to `cart`.
    pub async fn add_to_cart(
        &self,
        cart: &mut Cart,
        code: &str,
        quantity: Quantity,
    ) -> StationResult<TillProduct> {
        let product = self.find_product(code).await?.ok_or_else(|| {
            invalid(format!(
                "no product has the barcode or SKU {:?} (as of the last sync)",
                code.trim()
            ))
        })?;
        cart.add(product.clone(), quantity)?;
        Ok(product)
    }

    /// The cart's amounts under the tenant's tax rules.
    pub fn price(settings: &TillSettings, cart: &Cart) -> StationResult<Priced> {
        let inputs: Vec<LineInput> = cart
            .lines
            .iter()
            .map(|line| LineInput {
                unit_price_minor: cart.unit_price(line),
                quantity: line.quantity,
                discount_minor: line.discount_minor,
                tax_class: line.product.tax_class,
            })
            .collect();
        let (lines, totals) =
            nexus_domain::compute_sale(&settings.tax, &inputs, cart.discount_minor)
                .map_err(|error| invalid(error.to_string()))?;
        Ok(Priced { lines, totals })
    }
}

pub(crate) fn check_discount(
    role: Role,
    currency: Currency,
    discount_minor: i64,
    amount_minor: i64,
) -> StationResult<()> {
    if discount_minor < 0 {
        return Err(invalid("a discount cannot be negative"));
    }
    if discount_minor > amount_minor {
        return Err(invalid(format!(
            "a discount of {} is more than the {} it applies to",
            currency.format_minor(discount_minor),
            currency.format_minor(amount_minor)
        )));
    }
    if !role.may_discount(discount_minor, amount_minor) {
        return Err(invalid(format!(
            "a {role} may give at most {} % off ({} of {}); ask a manager",
            role.max_discount_basis_points() / 100,
            currency.format_minor(role.max_discount_minor(amount_minor)),
            currency.format_minor(amount_minor)
        )));
    }
    Ok(())
}
