//! The demo shop: its staff and its catalogue of Accra provisions.

/// One of the demo's staff: everyone signs in to the API with [`STAFF_PASSWORD`], and at a till
/// of their branch with their PIN.
pub struct StaffMember {
    pub name: &'static str,
    pub role: &'static str,
    pub pin: &'static str,
    pub email: &'static str,
    pub at_osu: bool,
    pub at_makola: bool,
}

pub const STAFF_PASSWORD: &str = "nexus demo staff";

const fn member(
    name: &'static str,
    role: &'static str,
    pin: &'static str,
    email: &'static str,
    (at_osu, at_makola): (bool, bool),
) -> StaffMember {
    StaffMember {
        name,
        role,
        pin,
        email,
        at_osu,
        at_makola,
    }
}

const OSU: (bool, bool) = (true, false);
const MAKOLA: (bool, bool) = (false, true);
const BOTH: (bool, bool) = (true, true);

/// The manager first, then the cashiers of Osu and of Makola.
#[rustfmt::skip]
pub const STAFF: &[StaffMember] = &[
    member("Kofi Boateng", "manager", "2468", "kofi@demo.nexus.example", BOTH),
    member("Efua Mensah", "cashier", "1234", "efua@demo.nexus.example", OSU),
    member("Kwame Asante", "cashier", "5678", "kwame@demo.nexus.example", OSU),
    member("Akosua Darko", "cashier", "1357", "akosua@demo.nexus.example", MAKOLA),
    member("Yaw Asare", "cashier", "8642", "yaw@demo.nexus.example", MAKOLA),
];

/// The manager's place in [`STAFF`]; the cashiers of a branch are `OSU_CASHIERS` and
/// `MAKOLA_CASHIERS` (morning, then afternoon).
pub const MANAGER: usize = 0;
pub const OSU_CASHIERS: [usize; 2] = [1, 2];
pub const MAKOLA_CASHIERS: [usize; 2] = [3, 4];

/// Five (label, shelf price in pesewas) of one good.
type Sizes = [(&'static str, i64); 5];

/// Goods of an Accra provision shop: (name, tax class, sizes with their shelf prices in
/// pesewas, tax included). Five sizes each make the demo's 200 products.
#[rustfmt::skip]
const GOODS: &[(&str, &str, Sizes)] = &[
    ("Royal Aroma Rice", "standard", [("1kg", 2200), ("2kg", 4300), ("5kg", 10500), ("10kg", 20500), ("25kg", 49000)]),
    ("Gino Tomato Paste", "standard", [("70g", 350), ("210g", 900), ("400g", 1600), ("800g", 3000), ("2.2kg", 7800)]),
    ("Frytol Cooking Oil", "standard", [("500ml", 2100), ("1L", 3900), ("2L", 7600), ("3L", 11200), ("5L", 18000)]),
    ("Peak Evaporated Milk", "standard", [("160g", 850), ("170g tin", 950), ("380g", 1900), ("6 x 160g", 4900), ("24 x 160g", 19500)]),
    ("Milo Chocolate Drink", "standard", [("20g sachet", 200), ("200g", 2800), ("400g", 5400), ("500g tin", 6500), ("1kg", 12500)]),
    ("Nido Milk Powder", "standard", [("26g sachet", 350), ("360g", 5200), ("400g tin", 6200), ("900g", 13500), ("2.5kg", 36000)]),
    ("Ideal Milk", "standard", [("160g", 800), ("410g", 1800), ("6 x 160g", 4600), ("12 x 160g", 9000), ("48 x 160g", 35000)]),
    ("Titus Sardines", "standard", [("125g", 1300), ("3 x 125g", 3800), ("6 x 125g", 7500), ("12 x 125g", 14800), ("50 x 125g", 60000)]),
    ("Geisha Mackerel", "standard", [("155g", 1200), ("425g", 2600), ("3 x 155g", 3500), ("6 x 155g", 6900), ("24 x 155g", 27000)]),
    ("Ashanti Sugar", "standard", [("500g", 900), ("1kg", 1700), ("2kg", 3300), ("5kg", 8000), ("25 cubes box", 1500)]),
    ("Lipton Yellow Label Tea", "standard", [("25 bags", 1200), ("50 bags", 2300), ("100 bags", 4400), ("200 bags", 8500), ("loose 250g", 3200)]),
    ("Nescafe Classic", "standard", [("2g sachet", 100), ("50g", 2500), ("100g", 4800), ("200g", 9200), ("25 sachets", 2300)]),
    ("Maggi Seasoning Cubes", "standard", [("4g", 50), ("10 cubes", 450), ("50 cubes", 2100), ("100 cubes", 4000), ("400 cubes", 15500)]),
    ("Onga Seasoning", "standard", [("sachet", 100), ("80g", 600), ("200g", 1400), ("400g", 2700), ("1kg", 6400)]),
    ("Indomie Noodles", "standard", [("70g", 350), ("120g", 550), ("5 x 70g", 1700), ("20 x 70g", 6600), ("40 x 70g", 13000)]),
    ("Golden Penny Spaghetti", "standard", [("500g", 1100), ("1kg", 2100), ("5 x 500g", 5300), ("10 x 500g", 10400), ("20 x 500g", 20500)]),
    ("Mama's Pride Flour", "standard", [("1kg", 1500), ("2kg", 2900), ("5kg", 7000), ("10kg", 13500), ("50kg", 64000)]),
    ("Blue Band Margarine", "standard", [("100g", 700), ("250g", 1500), ("450g", 2600), ("1kg", 5500), ("2.5kg", 13000)]),
    ("Voltic Mineral Water", "standard", [("500ml", 250), ("750ml", 350), ("1.5L", 600), ("12 x 500ml", 2800), ("18.9L", 2500)]),
    ("Coca-Cola", "standard", [("330ml can", 700), ("500ml", 800), ("1L", 1300), ("1.5L", 1800), ("12 x 330ml", 8000)]),
    ("Fanta Orange", "standard", [("330ml can", 700), ("500ml", 800), ("1L", 1300), ("1.5L", 1800), ("12 x 330ml", 8000)]),
    ("Malta Guinness", "standard", [("330ml can", 900), ("330ml bottle", 850), ("6 x 330ml", 5200), ("12 x 330ml", 10200), ("24 x 330ml", 20000)]),
    ("Alvaro Pear", "standard", [("330ml can", 900), ("330ml bottle", 850), ("6 x 330ml", 5200), ("12 x 330ml", 10200), ("24 x 330ml", 20000)]),
    ("Kalyppo Fruit Drink", "standard", [("200ml", 300), ("6 x 200ml", 1700), ("12 x 200ml", 3300), ("24 x 200ml", 6400), ("48 x 200ml", 12500)]),
    ("Tom Tom Sweets", "standard", [("each", 20), ("10 pack", 180), ("50 pack", 850), ("100 jar", 1600), ("500 bag", 7500)]),
    ("Digestive Biscuits", "standard", [("100g", 500), ("200g", 900), ("400g", 1700), ("6 x 200g", 5200), ("12 x 200g", 10000)]),
    ("Sunlight Washing Powder", "standard", [("30g", 150), ("500g", 1600), ("1kg", 3000), ("2kg", 5800), ("5kg", 14000)]),
    ("Key Soap", "standard", [("150g bar", 600), ("200g bar", 750), ("3 bars", 2100), ("6 bars", 4100), ("24 bars", 16000)]),
    ("Pepsodent Toothpaste", "standard", [("35g", 450), ("70g", 800), ("130g", 1400), ("2 x 130g", 2700), ("12 x 70g", 9200)]),
    ("Close-Up Toothpaste", "standard", [("35g", 500), ("70g", 900), ("140g", 1600), ("2 x 140g", 3000), ("12 x 70g", 10300)]),
    ("Nivea Body Lotion", "standard", [("100ml", 1800), ("200ml", 3200), ("400ml", 5800), ("625ml", 8500), ("1L", 12900)]),
    ("Softcare Tissue", "standard", [("1 roll", 400), ("4 rolls", 1500), ("10 rolls", 3600), ("24 rolls", 8400), ("48 rolls", 16400)]),
    ("Candles", "standard", [("1", 150), ("6", 850), ("12", 1600), ("24", 3100), ("48", 6000)]),
    ("Matches", "standard", [("1 box", 50), ("10 boxes", 450), ("50 boxes", 2100), ("100 boxes", 4000), ("1000 boxes", 38000)]),
    ("Gari (white)", "exempt", [("olonka", 1500), ("1kg", 1200), ("5kg", 5600), ("10kg", 11000), ("50kg bag", 52000)]),
    ("Fresh Eggs", "exempt", [("1", 250), ("6", 1450), ("12", 2850), ("crate of 30", 6800), ("2 crates", 13400)]),
    ("Plantain", "exempt", [("1 finger", 300), ("bunch small", 2500), ("bunch medium", 4000), ("bunch large", 6000), ("box", 15000)]),
    ("Yam", "exempt", [("1 tuber small", 1500), ("1 tuber large", 3500), ("3 tubers", 9000), ("5 tubers", 14500), ("100 tubers", 270000)]),
    ("Fresh Tomatoes", "exempt", [("5 pieces", 500), ("1kg", 1600), ("olonka", 3000), ("small basket", 9000), ("crate", 45000)]),
    ("Paracetamol Tablets", "zero_rated", [("10 tablets", 300), ("20 tablets", 550), ("50 tablets", 1300), ("100 tablets", 2500), ("1000 tablets", 22000)]),
];

/// How often each good of [`GOODS`] (in its order) goes into a basket, relative to the others:
/// tomato paste, stock cubes and water fly off the shelf; nobody buys lotion every day.
#[rustfmt::skip]
pub const GOOD_POPULARITY: [u32; 40] = [
    9, 10, 8, 8, 7, 5, 6, 6, 6, 8,   // rice … sugar
    5, 5, 10, 7, 9, 6, 5, 5, 10, 9,  // tea … Coca-Cola
    7, 7, 5, 6, 6, 6, 6, 6, 4, 4,    // Fanta … Close-Up
    3, 5, 3, 4, 6, 8, 6, 5, 7, 3,    // lotion … paracetamol
];

const _: () = assert!(GOOD_POPULARITY.len() == GOODS.len());

/// The good and size (both from 0) of a demo SKU such as `DEMO-01-1`.
pub fn good_and_size(sku: &str) -> Option<(usize, usize)> {
    let rest = sku.strip_prefix("DEMO-")?;
    let (good, size) = rest.split_once('-')?;
    let good: usize = good.parse().ok()?;
    let size: usize = size.parse().ok()?;
    (good >= 1 && good <= GOODS.len() && (1..=5).contains(&size)).then(|| (good - 1, size - 1))
}

/// The demo's catalogue as the service's CSV import reads it; barcodes are EAN-13 under
/// Ghana's GS1 prefix (603), numbered from 1 in catalogue order.
pub fn catalogue_csv() -> String {
    let mut csv = String::from("sku,name,price,barcode,tax_class,reorder_level\n");
    let mut number = 0_u64;
    for (good, (name, tax_class, sizes)) in GOODS.iter().enumerate() {
        for (size, (label, price_minor)) in sizes.iter().enumerate() {
            number += 1;
            csv.push_str(&format!(
                "DEMO-{:02}-{},{name} {label},{}.{:02},{},{tax_class},{}\n",
                good + 1,
                size + 1,
                price_minor / 100,
                price_minor % 100,
                nexus_domain::ean13(603_000_000_000 + number),
                if size < 2 { 10 } else { 3 }
            ));
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_has_200_products_with_distinct_valid_barcodes() {
        let csv = catalogue_csv();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|line| line.split(',').collect())
            .collect();
        assert_eq!(rows.len(), 200);
        let barcodes: std::collections::BTreeSet<&str> = rows.iter().map(|row| row[3]).collect();
        assert_eq!(barcodes.len(), 200);
        for row in &rows {
            assert_eq!(row.len(), 6, "{row:?}");
            assert!(row[3].starts_with("603") && row[3].len() == 13);
            let check = nexus_domain::ean13(row[3][..12].parse().expect("digits"));
            assert_eq!(check, row[3]);
        }
        assert!(csv.contains("DEMO-01-1,Royal Aroma Rice 1kg,22.00,6030000000018,standard,10"));
        for row in &rows {
            assert!(good_and_size(row[0]).is_some(), "{row:?}");
        }
        assert_eq!(good_and_size("DEMO-40-5"), Some((39, 4)));
        assert_eq!(good_and_size("DEMO-41-1"), None);
        assert_eq!(good_and_size("DEMO-01-6"), None);
    }
}
